"""``mrkv-probe`` keeps every run in the run store, and ``mrkv-probe runs …`` reads it: real processes against the
in-process stand-in (HTTP on 127.0.0.1), the store a file in tmp_path (``$MRKV_RUN_STORE``, tests/conftest.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_fakecloud import FakeCloud
from moto import mock_aws

from dashboard.measure.runs import compare
from dashboard.measure.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def targets_file(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        cloud = FakeCloud(regions=("us-west-2", "eu-central-1"), replication_delay_ms=30.0).start()
        path = tmp_path / "targets.json"
        path.write_text(json.dumps(cloud.endpoints()))
        yield path
        cloud.stop()


def command(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return [sys.executable, "-m", "dashboard.measure", *map(str, args)], env


def probe(*args, timeout=120):
    argv, env = command(*args)
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def compare_page(endpoints: Path, monkeypatch):
    """The dashboard's Compare page under AppTest, in this process (no local cloud: a targets file)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MRKV_ENDPOINTS_FILE", str(endpoints))
    try:
        at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
        at.switch_page("views/compare.py").run()
    finally:
        st.cache_resource.clear()
    assert not at.exception, at.exception[0].message
    return at


def as_json(done):
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_probe_runs_are_kept_listed_compared_exported_imported_and_deleted(
    targets_file, tmp_path, isolated_run_store
):
    common = ["--targets", targets_file, "--count", 30, "--concurrency", 2]
    first = probe("latency", *common, "--client-location", "Frankfurt", "--name", "from-frankfurt")
    assert first.returncode == 0, first.stderr
    assert "kept in" in first.stderr and "(complete, 90 samples)" in first.stderr
    second = probe("latency", *common, "--client-location", "Sydney", "--operation", "write")
    assert second.returncode == 0, second.stderr
    lag = probe("lag", "--targets", targets_file, "--source", "us-west-2", "--probes", 2, "--timeout", 3)
    assert lag.returncode == 0, lag.stderr

    listed = as_json(probe("runs", "list", "--json"))
    assert [r["kind"] for r in listed] == ["lag", "latency", "latency"]
    assert {r["status"] for r in listed} == {"complete"}
    assert [
        r["name"]
        for r in as_json(probe("runs", "list", "--kind", "latency", "--location", "Frankfurt", "--json"))
    ] == ["from-frankfurt"]
    sydney = listed[1]["id"]
    shown = as_json(probe("runs", "show", sydney, "--json"))
    context = shown["context"]
    assert context["client_location"]["name"] == "Sydney" and context["client_location"]["declared"]
    assert context["workload"]["operation"] == "write" and context["workload"]["count"] == 30
    assert context["targets"] == ["us-west-2", "eu-central-1", "global"]

    compared = probe("runs", "compare", "from-frankfurt", sydney)
    assert compared.returncode == 0, compared.stderr
    assert compared.stdout.startswith("WARNING: The client locations differ")
    figures = as_json(probe("runs", "compare", "from-frankfurt", sydney, "--json"))
    in_process = compare.compare(RunStore(isolated_run_store), ["from-frankfurt", sydney]).to_dict()
    assert figures["rows"] == json.loads(json.dumps(in_process["rows"]))

    exported = tmp_path / "frankfurt.mrkv-run.zip"
    assert as_json(probe("runs", "export", "from-frankfurt", "-o", exported, "--json"))["file"] == str(
        exported
    )
    deleted = as_json(probe("runs", "delete", "from-frankfurt", "--json"))
    assert deleted["name"] == "from-frankfurt"
    assert len(as_json(probe("runs", "list", "--json"))) == 2
    imported = as_json(probe("runs", "import", exported, "--json"))
    assert imported["id"] == deleted["id"] and imported["samples"] == 90
    again = as_json(probe("runs", "compare", "from-frankfurt", sydney, "--json"))
    assert again["rows"] == figures["rows"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["runs", "show", "nope"], "no run 'nope'"),
        (["runs", "compare", "nope", "other"], "no run 'nope'"),
        (["runs", "import", "{tmp}/missing.zip"], "not a readable mrkv-run file"),
        (["runs", "import", "{tmp}/garbage.zip"], "not a readable mrkv-run file"),
        (["runs", "delete"], "the following arguments are required: run"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(tmp_path, args, message):
    (tmp_path / "garbage.zip").write_bytes(b"not a zip at all")
    done = probe(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_run_read_while_the_cli_writes_it_and_stopped_by_ctrl_c_keeps_its_samples(
    targets_file, isolated_run_store, monkeypatch
):
    """Two processes: the CLI writes a run; this process reads the store as the dashboard does, meanwhile."""
    argv, env = command(
        "latency", "--targets", targets_file, "--count", 3000, "--rate", 150, "--name", "long"
    )
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    store = RunStore(isolated_run_store)
    seen, deadline = set(), time.monotonic() + 60
    try:
        while len(seen) < 3 and time.monotonic() < deadline:
            runs = store.list(kind="latency")
            if runs:
                assert runs[0]["status"] == "running"
                rows = len(store.frame(runs[0]["id"], columns=["target", "latency_ms"]))
                assert rows == store.get("long")["samples"] or rows <= store.get("long")["samples"]
                if rows:
                    seen.add(rows)
            time.sleep(0.3)
        assert len(seen) >= 3, f"the reader saw the run grow only through {sorted(seen)}"
        # The dashboard's Compare page, rendered here meanwhile, lists the run being written.
        at = compare_page(targets_file, monkeypatch)
        assert any(
            o.startswith("long · ") and o.endswith(" · running")
            for o in at.multiselect(key="cmp_runs").options
        )
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    run = store.get("long")
    assert run["status"] == "stopped" and run["ended_at"]
    kept = store.frame(run["id"])
    assert run["samples"] == len(kept) >= max(seen)
    assert len(kept) < 9000 and kept["ok"].all()
    assert f"run {run['id']} kept in" in stderr and "(stopped," in stderr


def test_a_cli_killed_mid_run_leaves_a_stopped_run_with_what_it_had_flushed(targets_file, isolated_run_store):
    argv, env = command(
        "latency", "--targets", targets_file, "--count", 3000, "--rate", 150, "--name", "killed"
    )
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = RunStore(isolated_run_store)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            runs = store.list()
            if runs and runs[0]["samples"] > 0:
                break
            time.sleep(0.2)
    finally:
        process.kill()  # SIGKILL: no handler runs, the run cannot close itself
        process.wait(timeout=30)
    run = store.get("killed")
    assert run["status"] == "stopped" and "ended without closing it" in run["error"]
    assert run["samples"] == len(store.frame(run["id"])) > 0

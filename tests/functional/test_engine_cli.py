"""``python -m dashboard.measure`` as a real process against the in-process stand-in (HTTP on 127.0.0.1)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from engine_fakecloud import FakeCloud
from moto import mock_aws

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


def probe(*args, timeout=120):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "dashboard.measure", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_json_alone_prints_the_figures_that_are_kept_with_the_run(targets_file):
    """``--json`` alone: one JSON document on stdout (the report on stderr), the very figures the run store keeps
    as the run's summary, which is what the dashboard shows for the run."""
    conflict = probe("conflict", "--targets", targets_file, "--trials", 2, "--json")
    assert conflict.returncode == 0, conflict.stderr
    document = json.loads(conflict.stdout)
    assert document["kind"] == "conflict" and document["figures"]["trials"] == 2
    assert [t["trial"] for t in document["trials"]] == [0, 1]
    assert all(isinstance(t["converge_ms"], int) for t in document["trials"])
    assert "2/2 trials followed last-writer-wins" in conflict.stderr
    failover = probe("failover", "--targets", targets_file, "--observe", "--duration", 1, "--json")
    assert failover.returncode == 0, failover.stderr
    figures = json.loads(failover.stdout)["figures"]
    assert figures["initial_region"] == "us-west-2" and figures["outage_start_s"] is None
    assert figures["why"]["outage_start_s"] == "every answer came from us-west-2: no outage was seen"
    for printed in (document, json.loads(failover.stdout)):
        kept = json.loads(probe("runs", "show", printed["run"], "--json").stdout)
        assert kept["summary"] == printed["figures"]


def test_latency_prints_a_summary_and_writes_raw_samples(targets_file, tmp_path):
    csv, js = tmp_path / "s.csv", tmp_path / "s.json"
    done = probe(
        "latency",
        "--targets",
        targets_file,
        "--count",
        20,
        "--concurrency",
        2,
        "--client-location",
        "Frankfurt",
        "--csv",
        csv,
        "--json",
        js,
    )
    assert done.returncode == 0, done.stderr
    assert "p50" in done.stdout and "us-west-2" in done.stdout and "global" in done.stdout
    assert "physical floor from Frankfurt" in done.stdout
    assert "progress 60/60" in done.stderr  # not a terminal: plain progress lines, never a bar
    df = pd.read_csv(csv)
    assert len(df) == 60 and set(df["target"]) == {"us-west-2", "eu-central-1", "global"}
    assert len(json.loads(js.read_text())) == 60


def test_lag_conflict_and_failover_commands_run(targets_file, tmp_path):
    lag = probe("lag", "--targets", targets_file, "--source", "us-west-2", "--probes", 3, "--timeout", 3)
    assert lag.returncode == 0, lag.stderr
    assert "replication lag from us-west-2" in lag.stdout and "eu-central-1" in lag.stdout
    conflict = probe("conflict", "--targets", targets_file, "--trials", 3)
    assert conflict.returncode == 0, conflict.stderr
    assert "3/3 trials followed last-writer-wins" in conflict.stdout
    failover = probe("failover", "--targets", targets_file, "--observe", "--duration", 1, "--rate", 10)
    assert failover.returncode == 0, failover.stderr
    assert re.search(r"Serving before +us-west-2", failover.stdout), failover.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["latency", "--endpoints-file", "/nonexistent/endpoints.json"],
            "does not exist: the local cloud is not running: start it with `make up`",
        ),
        (["lag", "--stack", "s"], "--stack needs --regions"),
        (["latency", "--count", "0", "--targets", "{tf}"], "count must be an integer >= 1"),
        (["latency", "--only", "mars-1", "--targets", "{tf}"], "unknown target 'mars-1'"),
        (["conflict", "--regions", "us-west-2", "--targets", "{tf}"], "at least two regions"),
        (["latency", "--count", "x"], "invalid int value"),
    ],
)
def test_cannot_run_exits_1_with_a_reason_and_no_traceback(targets_file, args, message):
    done = probe(*[a.replace("{tf}", str(targets_file)) for a in args])
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_unreachable_targets_are_named(tmp_path):
    path = tmp_path / "dead.json"
    path.write_text(json.dumps({"regions": {"us-west-2": "http://127.0.0.1:9/dev"}}))
    done = probe("latency", "--targets", path)
    assert done.returncode == 1
    assert "no answer from targets file" in done.stderr and "http://127.0.0.1:9/dev/_health" in done.stderr

"""The engine against the real local cloud: its processes on 127.0.0.1, started by ``python -m backend.local up``.

Checks issue 4's acceptance figures: warm p50 per region against the modelled RTT (network realistic), the lag
probe against the replicator's own ReplicationLatency, LWW in 20 of 20 conflict trials, and failover within the
router's configured bounds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard import stats
from dashboard.conflict_probe import run_conflict
from dashboard.failover_probe import run_failover
from dashboard.lag_probe import lag_summary, reference_lag, run_lag
from dashboard.latency_run import run_latency
from dashboard.targets import GLOBAL, load_endpoints_file

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
US, EU = "us-west-2", "eu-central-1"


class LocalCloudProcess:
    """``python -m backend.local up`` in its own process group; ready when every endpoint answers."""

    def __init__(self, tmp: Path, *args: str, ready_timeout_s: float = 60.0):
        self.endpoints_file = tmp / "endpoints.json"
        self.log = tmp / "local-cloud.log"
        with open(self.log, "w") as log:
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "backend.local",
                    "up",
                    "--port",
                    "0",
                    "--endpoints-file",
                    str(self.endpoints_file),
                    *args,
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(
                    f"local cloud exited {self.popen.returncode}: {self.log.read_text()[-2000:]}"
                )
            if self.endpoints_file.exists() and self._answers():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"local cloud not ready in {ready_timeout_s} s: {self.log.read_text()[-2000:]}")

    def _answers(self) -> bool:
        try:
            targets = load_endpoints_file(self.endpoints_file)
            for name in targets.names():
                urllib.request.urlopen(targets.url(name) + "/_health", timeout=2).read()
            urllib.request.urlopen(targets.control_url + "/status", timeout=2).read()
            return True
        except Exception:
            return False

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    process = LocalCloudProcess(
        tmp_path_factory.mktemp("engine-cloud"), "--network", "realistic", "--client-location", "Seattle"
    )
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def targets(cloud):
    return load_endpoints_file(cloud.endpoints_file)


@pytest.fixture(scope="module")
def control(targets):
    from backend.local.control import ControlClient

    return ControlClient(targets.control_url)


@pytest.fixture
def network_none(control):
    control.set_network("none")
    try:
        yield
    finally:
        control.set_network("realistic")


def test_warm_p50_matches_the_modelled_round_trip(targets, control):
    status = control.status()
    assert status["network"] == "realistic"
    df = run_latency(targets, [US, EU, GLOBAL], "read", count=40, concurrency=2)
    assert df["ok"].all()
    summary = stats.summarize(df, warm_only=True)
    warm = df[~df["new_connection"]]
    for region in (US, EU):
        modelled = status["regions"][region]["modelled_rtt_ms"]
        network_p50 = warm.loc[warm["target"] == region, "network_ms"].median()
        # issue 4: within +-10% (+2 ms) of the modelled RTT; the function's own time is taken out via Server-Timing.
        assert abs(network_p50 - modelled) <= 0.10 * modelled + 2.0, (region, network_p50, modelled)
        assert summary.loc[region, "p50"] >= modelled * 0.9
    # The global endpoint answers from the nearest region (Seattle -> us-west-2), at about its RTT.
    assert set(df.loc[df["target"] == GLOBAL, "served_region"]) == {US}


def test_lag_probe_agrees_with_the_replicators_reported_lag(targets, control):
    started = datetime.now(UTC)
    df = run_lag(targets, US, [EU], probes=8, timeout_s=10.0)
    ended = datetime.now(UTC)
    assert (df["status"] == "seen").all(), df["error"].tolist()
    probe = lag_summary(df).loc[(US, EU)]
    reference = reference_lag(targets, US, [EU], started, ended, control=control).loc[(US, EU)]
    assert reference["samples"] >= 8 and reference["origin"].endswith("(window)")
    # The replicator times stream record -> apply; the probe sees the value at its first poll after the apply.
    # So the probe's lag lies between the replicator's and the replicator's + the probe's resolution (a few ms of
    # one-way estimation and millisecond truncation aside).
    slack = 5.0
    assert (
        reference["p50_ms"] - slack <= probe["p50"] <= reference["p50_ms"] + probe["resolution_p50"] + slack
    ), (probe.to_dict(), reference.to_dict())


@pytest.mark.usefixtures("network_none")
def test_conflict_winner_follows_last_writer_wins_in_20_of_20_trials(targets):
    results, timeline = run_conflict(targets, [US, EU], trials=20, timeout_s=10.0)
    assert int(results["follows_lww"].sum()) == 20, results[["winner_region", "expected_region", "error"]]
    assert results["converged"].all()
    assert set(timeline["region"]) == {US, EU}


def test_failover_is_seen_within_the_routers_configured_bound(targets, control):
    routing = control.routing()
    bound = routing["health_interval_s"] * routing["failure_threshold"] + routing["dns_ttl_s"]
    rate = 20.0
    timeline, summary = run_failover(
        targets,
        US,
        control=control,
        duration_s=max(6.0, 4 * bound),
        rate=rate,
        down_at_s=1.0,
        up_at_s=1.0 + max(2.5, 1.5 * bound),
    )
    assert summary["initial_region"] == US
    assert summary["failover_s"] <= bound + 1 / rate + 0.25, summary
    assert summary["failback_s"] <= bound + 1 / rate + 0.25, summary
    assert summary["within_bound"] is True
    assert summary["served_during_outage"].get(EU, 0) > 0
    assert control.status()["regions"][US]["down"] is False


def test_probe_cli_against_the_local_cloud(cloud, tmp_path):
    out = tmp_path / "samples.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard.probe",
            "latency",
            "--endpoints-file",
            str(cloud.endpoints_file),
            "--count",
            "10",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "physical floor from Seattle" in done.stdout
    assert len(json.loads(out.read_text())) == 30

"""The engine against the real local cloud: its processes on 127.0.0.1, started by ``LocalCloud``.

Checks issue 4's acceptance figures: warm p50 per region against the modelled RTT (network realistic), the lag
probe against the replicator's own ReplicationLatency, LWW in 20 of 20 conflict trials, and failover within the
router's configured bounds.
"""

from __future__ import annotations

import json
import subprocess
import sys
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


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    from backend.local.cloud import LocalCloud

    endpoints_file = tmp_path_factory.mktemp("engine-cloud") / "endpoints.json"
    local = LocalCloud(network="realistic", client_location="Seattle", endpoints_file=endpoints_file)
    local.start()
    try:
        yield local
    finally:
        local.stop()


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


def _p50_offsets(targets, status) -> tuple[dict, object]:
    """One latency run; per region (warm network p50, modelled RTT, within issue 4's +-10% (+2 ms) or not)."""
    df = run_latency(targets, [US, EU, GLOBAL], "read", count=60, concurrency=1)
    assert df["ok"].all(), df.loc[~df["ok"], "error"].unique()
    warm = df[~df["new_connection"]]
    figures = {}
    for region in (US, EU):
        modelled = status["regions"][region]["modelled_rtt_ms"]
        # the function's own time is taken out through Server-Timing: what is left is the (emulated) network
        network_p50 = float(warm.loc[warm["target"] == region, "network_ms"].median())
        figures[region] = (network_p50, modelled, abs(network_p50 - modelled) <= 0.10 * modelled + 2.0)
    return figures, df


def test_warm_p50_matches_the_modelled_round_trip(targets, control):
    status = control.status()
    assert status["network"] == "realistic"
    # The region processes sleep the modelled RTT; on a 2-core machine shared with other test runs their threads
    # wake late now and then (a load spike adds ms to the 9 ms us-west-2 path). Such noise is transient, an
    # engine error is not: the figures must hold in one of three runs, for every region at once.
    attempts = []
    for _ in range(3):
        figures, df = _p50_offsets(targets, status)
        attempts.append(figures)
        if all(within for _, _, within in figures.values()):
            break
    else:
        pytest.fail(f"warm p50 vs modelled RTT (measured, modelled, within) in 3 runs: {attempts}")
    summary = stats.summarize(df, warm_only=True)
    for region in (US, EU):
        assert summary.loc[region, "p50"] >= 0.9 * status["regions"][region]["modelled_rtt_ms"]
    # The global endpoint answers from the nearest region (Seattle -> us-west-2).
    assert set(df.loc[df["target"] == GLOBAL, "served_region"]) == {US}


def test_lag_probe_agrees_with_the_replicators_reported_lag(targets, control):
    started = datetime.now(UTC)
    df = run_lag(targets, US, [EU], probes=8, timeout_s=10.0)
    ended = datetime.now(UTC)
    assert (df["status"] == "seen").all(), df["error"].tolist()
    probe = lag_summary(df).loc[(US, EU)]
    reference = reference_lag(targets, US, [EU], started, ended, control=control).loc[(US, EU)]
    assert reference["samples"] >= 8 and reference["origin"].endswith("(window)")
    # The replicator times stream record -> the return of its put in the destination; the probe sees the value at
    # its first poll after the put took effect. So the probe's lag lies within its resolution above the
    # replicator's, give or take the replicator's own timestamps (ms truncation, and its put's HTTP answer comes
    # back a moment after the item is visible: a few ms on a loaded 2-core machine).
    slack = 10.0
    low, high = reference["p50_ms"] - slack, reference["p50_ms"] + probe["resolution_p50"] + slack
    assert low <= probe["p50"] <= high, (probe.to_dict(), reference.to_dict())


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

"""The probes over real HTTP against an in-process stand-in whose delays are known (tests/functional/engine_fakecloud).

The stand-in runs the project's real service and store over moto, with a known one-way network delay per region
and a known replication delay, so the probes' figures can be checked against the truth.
"""

import json
import threading
import time

import pandas as pd
import pytest
from engine_fakecloud import FakeCloud
from moto import mock_aws

from dashboard.measure import stats
from dashboard.measure.errors import ProbeError
from dashboard.measure.probes.conflict import run_conflict
from dashboard.measure.probes.failover import run_failover
from dashboard.measure.probes.lag import run_lag
from dashboard.measure.probes.lag_math import lag_summary
from dashboard.measure.probes.latency import run_latency
from dashboard.measure.targets import GLOBAL, from_mapping
from dashboard.measure.timed_client import TimedClient

US, EU, AP = "us-west-2", "eu-central-1", "ap-northeast-1"


@pytest.fixture
def cloud_factory(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    started = []
    with mock_aws():

        def start(**kwargs):
            cloud = FakeCloud(**kwargs).start()
            started.append(cloud)
            return cloud, from_mapping(cloud.endpoints(), "fake cloud")

        yield start
        for cloud in started:
            cloud.stop()


def test_latency_run_counts_connections_and_measures_the_known_network_delay(cloud_factory):
    cloud, targets = cloud_factory(regions=(US, EU), one_way_ms={US: 10.0, EU: 25.0})
    calls, threads = [], set()

    def progress(done, total, message):
        calls.append((done, total))
        threads.add(threading.current_thread())

    df = run_latency(
        targets,
        targets.names(),
        "read",
        count=30,
        concurrency=4,
        progress=progress,
        on_sample=lambda row: threads.add(threading.current_thread()),
    )
    assert len(df) == 90 and df["ok"].all()
    assert threads == {threading.current_thread()}  # callbacks only on the caller's thread
    assert calls[-1] == (90, 90)
    summary = stats.summarize(df, warm_only=True)
    for target in targets.names():
        assert summary.loc[target, "count"] == 30
        assert (
            1 <= summary.loc[target, "new_connections"] <= 4
        )  # one keep-alive connection per worker at most
    assert (df.loc[df["target"] == US, "served_region"] == US).all()
    assert (df.loc[df["target"] == GLOBAL, "served_region"] == US).all()  # the router prefers us-west-2
    # Warm requests: 2 x one-way outside the function (a loaded 2-core machine only adds, so the upper slack is wide).
    warm = df[~df["new_connection"]]
    for region, one_way in ((US, 10.0), (EU, 25.0)):
        network = warm.loc[warm["target"] == region, "network_ms"].median()
        assert 2 * one_way - 1 <= network <= 2 * one_way + 25
    assert (warm["server_app_ms"] >= warm["server_db_ms"]).all()


def test_write_and_mix_runs_and_the_rate_limit(cloud_factory):
    cloud, targets = cloud_factory(regions=(US, EU))
    mix = run_latency(targets, [US], "mix", count=40, concurrency=2, seed=7)
    assert set(mix["operation"]) == {"read", "write"} and mix["ok"].all()
    started = time.perf_counter()
    writes = run_latency(targets, [US, EU], "write", count=10, concurrency=4, rate=40.0)
    assert time.perf_counter() - started >= 19 / 40  # 20 requests at 40/s: the last one leaves at 0.475 s
    assert writes["ok"].all() and (writes["write_region"] == writes["target"]).all()


def test_a_region_that_is_down_shows_as_errors_not_as_a_failed_run(cloud_factory):
    cloud, targets = cloud_factory(regions=(US, EU))
    cloud.region_down(EU)
    df = run_latency(targets, [US, EU], "read", count=5, concurrency=2)
    summary = stats.summarize(df)
    assert summary.loc[US, "errors"] == 0
    assert summary.loc[EU, "errors"] == 5
    assert set(df.loc[df["target"] == EU, "status"]) == {503}
    assert (df.loc[df["target"] == EU, "error"] == "eu-central-1 is down").all()


def test_latency_run_rejects_bad_parameters(cloud_factory):
    cloud, targets = cloud_factory()
    with pytest.raises(ProbeError, match="operation must be one of"):
        run_latency(targets, [US], "scan")
    with pytest.raises(ProbeError, match="count must be an integer >= 1"):
        run_latency(targets, [US], "read", count=0)
    with pytest.raises(Exception, match="unknown target 'mars-1'"):
        run_latency(targets, ["mars-1"], "read")


def test_lag_probe_agrees_with_the_known_replication_delay(cloud_factory):
    delay = 150.0
    cloud, targets = cloud_factory(
        regions=(US, EU, AP), one_way_ms={US: 10.0, EU: 30.0, AP: 45.0}, replication_delay_ms=delay
    )
    seen_rows = []
    df = run_lag(targets, US, [EU, AP], probes=6, timeout_s=3.0, on_sample=seen_rows.append)
    assert len(df) == len(seen_rows) == 12
    assert (df["status"] == "seen").all()
    visible = {(region, key): (before, after) for region, key, _, before, after in cloud.applied}
    # The truth, on the probe's own clock: the value was committed in the source during its put and became visible
    # in the destination during the replicated put. The probe's [lag_low, lag] must bracket it, up to the one-way
    # estimation error. Everything here shares one process (and its GIL) on a loaded 2-core machine, which skews
    # single probes by tens of ms now and then: the check is on each pair's medians. (Without the one-way
    # correction the medians would be off by the two one-way times, 40-55 ms.)
    truth = pd.DataFrame(
        [
            {
                "destination": row.destination,
                "low": (visible[(row.destination, row.key)][0] - visible[(US, row.key)][1]) * 1000,
                "high": (visible[(row.destination, row.key)][1] - visible[(US, row.key)][0]) * 1000,
                "lag": row.lag_ms,
                "lag_low": row.lag_low_ms,
                "resolution": row.resolution_ms,
            }
            for row in df.itertuples()
        ]
    )
    assert (truth["low"] >= delay - 1).all()  # the stand-in never replicates early
    error = 15.0
    for destination, part in truth.groupby("destination"):
        medians = part.median(numeric_only=True)
        assert medians["lag"] >= medians["low"] - error, (destination, medians.to_dict())
        assert medians["lag_low"] <= medians["high"] + error, (destination, medians.to_dict())
        assert medians["resolution"] < 60, (destination, medians.to_dict())
    summary = lag_summary(df)
    assert set(summary.index) == {(US, EU), (US, AP)}
    assert (summary["seen"] == 6).all()


def test_lag_probe_records_timeouts_and_failed_writes_as_rows(cloud_factory):
    cloud, targets = cloud_factory(regions=(US, EU), replication_delay_ms=5000.0)
    df = run_lag(targets, US, [EU], probes=2, timeout_s=0.4)
    assert list(df["status"]) == ["timeout", "timeout"]
    assert (df["lag_low_ms"] >= 300).all() and df["lag_ms"].isna().all()
    cloud.region_down(US)
    failed = run_lag(targets, US, [EU], probes=1, timeout_s=0.4)
    assert list(failed["status"]) == ["write_failed"]
    assert "us-west-2 is down" in failed["error"][0]
    with pytest.raises(ProbeError, match="at least one destination"):
        run_lag(targets, US, [US])


def test_conflict_winner_follows_last_writer_wins_and_all_regions_converge(cloud_factory):
    cloud, targets = cloud_factory(
        regions=(US, EU, AP), one_way_ms={US: 2.0, EU: 4.0, AP: 6.0}, replication_delay_ms=40.0
    )
    results, timeline = run_conflict(targets, [US, EU, AP], trials=6)
    assert len(results) == 6
    assert results["converged"].all() and results["follows_lww"].all()
    assert (results["acked"] == 3).all()
    for row in results.itertuples():
        assert sorted([row.winner_region, *row.losers.split(",")]) == sorted([US, EU, AP])
        assert row.converge_ms >= 40 - 5  # nobody can agree before replication delivers
    first = timeline[(timeline["trial"] == 0) & (timeline["round"] == 1)]
    assert sorted(first["region"]) == sorted([US, EU, AP])
    with pytest.raises(ProbeError, match="at least two regions"):
        run_conflict(targets, [US])


def test_failover_moves_to_the_next_region_and_back(cloud_factory):
    cloud, targets = cloud_factory(regions=(US, EU), one_way_ms={US: 1.0, EU: 3.0})
    timeline, summary = run_failover(
        targets, US, control=cloud, duration_s=2.0, rate=25.0, down_at_s=0.6, up_at_s=1.3
    )
    assert summary["initial_region"] == US and summary["failed_region"] == US
    assert (
        summary["failover_s"] <= 0.2 and summary["failback_s"] <= 0.2
    )  # the stand-in's router reacts at once
    assert (
        summary["outage_start_s"]
        <= summary["moved_away_s"]
        < summary["recovery_s"]
        <= summary["moved_back_s"]
    )
    assert set(timeline.loc[timeline["phase"] == "outage", "served_region"]) <= {EU, US}
    assert summary["served_by_region_during_outage"].get(EU, 0) >= 10
    assert set(summary["why"]) == {"bound_s", "bound_seen_s"}  # no router settings here: said in words
    assert US not in cloud.down  # the probe never leaves a region down


def test_timed_client_reports_http_and_network_errors_as_samples(cloud_factory):
    cloud, targets = cloud_factory(regions=(US,), one_way_ms={US: 300.0})
    with TimedClient(US, targets.url(US), timeout_s=5.0) as client:
        reserved = client.write("_reserved", "v").row
        assert reserved["status"] == 400 and not reserved["ok"] and "reserved" in reserved["error"].lower()
        missing = client.read("never-written").row
        assert missing["status"] == 404 and missing["ok"]  # a clean "not found" is an answer
        odd = "a/b ключ?"
        assert client.write(odd, "x").row["ok"] and client.read(odd).body["value"] == "x"
        assert client.connections_opened == 1  # all of it on one keep-alive connection
    with TimedClient(US, targets.url(US), timeout_s=0.1) as client:
        slow = client.read("k").row
        assert slow["status"] == 0 and slow["error"].startswith("timeout")
    cloud.stop()
    with TimedClient(US, targets.url(US), timeout_s=1.0) as client:
        refused = client.read("k").row
        assert refused["status"] == 0 and refused["error"] == "connection refused"


def test_a_live_failover_run_advances_and_cancel_keeps_what_was_measured(cloud_factory, tmp_path):
    """The page's live run (dashboard.measure.live): progress and samples grow while it runs; Cancel ends it early,
    the figures cover what was measured and say the run was stopped, and the run store keeps it as 'stopped'."""
    from dashboard.measure.live import LiveRun, recorded
    from dashboard.measure.runs.context import build_context
    from dashboard.measure.runs.recorder import Recording
    from dashboard.measure.runs.store import RunStore

    cloud, targets = cloud_factory(regions=(US, EU), one_way_ms={US: 1.0, EU: 3.0})
    store = RunStore(tmp_path / "runs.sqlite")
    recording = Recording(store, "failover", build_context(targets, {}, ["global"], created_by="dashboard"))

    def call(progress, on_sample, stop):
        return run_failover(
            targets, US, control=cloud, duration_s=20.0, rate=20.0, down_at_s=0.5, up_at_s=15.0,
            progress=progress, on_sample=on_sample, stop=stop,
        )  # fmt: skip

    live = LiveRun(recorded(recording, call, lambda result: ({"samples": result[0]}, result[1])), total_s=20.0)
    live.start()
    seen = []
    for _ in range(8):
        time.sleep(0.25)
        seen.append((live.fraction, len(live.samples)))
    assert live.running and "s left" in live.status_line()
    assert all(b[0] > a[0] and b[1] > a[1] for a, b in zip(seen, seen[1:], strict=False)), seen
    live.cancel()
    assert live.wait(10.0) and live.error is None
    timeline, figures = live.result
    assert len(timeline) == len(live.samples) < 20 * 20
    assert figures["outage_start_s"] is not None and figures["recovery_s"] is None
    assert "stopped at" in figures["why"]["recovery_s"]
    assert store.get(recording.id)["status"] == "stopped"
    assert store.get(recording.id)["summary"] == json.loads(json.dumps(figures))
    assert US not in cloud.down  # the region was brought back even though the run was cut short


def test_writes_timed_to_land_together_make_a_real_race(cloud_factory):
    """Leaving together, the farther region stamps its write later by about the difference in one-way delay and
    always wins; timed to land together, the stamps are close and the distance no longer decides."""
    cloud, targets = cloud_factory(regions=(US, EU), one_way_ms={US: 1.0, EU: 40.0})
    leave, _ = run_conflict(targets, [US, EU], trials=4)
    land, _ = run_conflict(targets, [US, EU], trials=4, land_together=True)
    assert set(leave["winner_region"]) == {EU} and leave["write_spread_ms"].median() >= 30
    assert land["write_spread_ms"].median() <= 15, land[["winner_region", "write_spread_ms"]]
    assert land["converged"].all() and land["follows_lww"].all()

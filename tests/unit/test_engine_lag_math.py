"""The replication-lag arithmetic and the LWW / failover rules, on synthetic timings with known answers."""

import math

import pandas as pd
import pytest

from dashboard.measure.probes.conflict import lww_winner
from dashboard.measure.probes.lag_math import (
    dense_window,
    lag_from_polls,
    lag_summary,
    poll_schedule,
    server_moment,
)


def test_server_moment_sits_one_network_leg_before_the_answer():
    # sent at 10.000 s, answered at 10.100 s, 20 ms in the function: 80 ms of network, 40 ms each way.
    assert server_moment(10.0, 10.1, app_ms=20.0) == pytest.approx(10.06)
    # without Server-Timing the whole round trip is split in two
    assert server_moment(10.0, 10.1) == pytest.approx(10.05)
    # connection setup happens before the request leaves: it is not part of either leg
    assert server_moment(10.0, 10.13, app_ms=20.0, connect_ms=30.0) == pytest.approx(10.09)


def test_lag_is_first_seen_minus_commit_with_the_poll_gap_as_resolution():
    write_at = 100.0
    polls = [(100.010, False), (100.030, False), (100.052, True), (100.060, True)]
    result = lag_from_polls(write_at, polls)
    assert result["seen"]
    assert result["lag_ms"] == pytest.approx(52.0)
    assert result["resolution_ms"] == pytest.approx(22.0)
    assert result["lag_low_ms"] == pytest.approx(30.0)


def test_lag_ignores_polls_answered_late_but_evaluated_after_the_first_hit():
    # overlapping polls: a miss evaluated after an earlier hit (impossible in truth) is estimation noise
    result = lag_from_polls(0.0, [(0.050, True), (0.040, False), (0.055, False)])
    assert result["lag_ms"] == pytest.approx(50.0)
    assert result["resolution_ms"] == pytest.approx(10.0)


def test_value_visible_on_the_first_poll_gives_resolution_from_the_write():
    result = lag_from_polls(1.0, [(1.004, True)])
    assert result["lag_ms"] == pytest.approx(4.0)
    assert result["resolution_ms"] == pytest.approx(4.0)
    assert result["lag_low_ms"] == 0.0


def test_negative_estimates_are_clamped_to_zero():
    result = lag_from_polls(1.0, [(0.999, True)])
    assert result["lag_ms"] == 0.0 and result["resolution_ms"] == 0.0


def test_timeout_keeps_a_lower_bound_instead_of_a_lag():
    result = lag_from_polls(0.0, [(0.5, False), (1.5, False)])
    assert not result["seen"]
    assert math.isnan(result["lag_ms"])
    assert result["lag_low_ms"] == pytest.approx(1500.0)


def test_poll_schedule_starts_at_once_backs_off_and_caps():
    offsets = poll_schedule(5.0, 20.0, 2.0, horizon_s=0.1)
    gaps = [round((b - a) * 1000, 6) for a, b in zip(offsets, offsets[1:], strict=False)]
    assert offsets[0] == 0.0
    assert gaps[:4] == [5.0, 10.0, 20.0, 20.0]
    assert offsets[-1] <= 0.1


def test_poll_schedule_is_dense_where_earlier_probes_first_saw_the_value():
    offsets = poll_schedule(5.0, 50.0, 2.0, horizon_s=0.2, dense=(0.1, 0.12))
    ms = [round(o * 1000, 6) for o in offsets]
    assert ms[:5] == [0.0, 5.0, 15.0, 35.0, 75.0]  # backing off before the window...
    assert ms[5:10] == [
        100.0,
        105.0,
        110.0,
        115.0,
        120.0,
    ]  # ...landing on its start, then every 5 ms across it
    assert ms[10:12] == [125.0, 135.0]  # and backing off again after it


def test_dense_window_spans_earlier_sightings_with_margins():
    assert dense_window([]) is None
    low, high = dense_window([0.4, 0.5])
    assert low == pytest.approx(0.4 * 0.75 - 0.02) and high == pytest.approx(0.5 * 1.25 + 0.02)
    assert dense_window([0.01])[0] == 0.0


def test_lag_summary_per_pair_counts_timeouts_and_takes_percentiles_of_seen_probes():
    rows = [
        {"source": "a", "destination": "b", "status": "seen", "lag_ms": lag, "resolution_ms": 4.0}
        for lag in (100.0, 200.0, 300.0)
    ] + [
        {
            "source": "a",
            "destination": "b",
            "status": "timeout",
            "lag_ms": math.nan,
            "resolution_ms": math.nan,
        }
    ]
    summary = lag_summary(pd.DataFrame(rows)).loc[("a", "b")]
    assert (summary["probes"], summary["seen"], summary["timeouts"]) == (4, 3, 1)
    assert summary["p50"] == pytest.approx(200.0)
    assert summary["max"] == 300.0 and summary["resolution_p50"] == 4.0


def test_lww_winner_is_the_greatest_written_at_then_region():
    writes = [
        {"value": "x", "region": "us-west-2", "writtenAt": 1000},
        {"value": "y", "region": "eu-central-1", "writtenAt": 1001},
        {"value": "z", "region": "ap-south-1", "writtenAt": 1001},
    ]
    assert lww_winner(writes)["value"] == "y"  # same ms: "eu-central-1" > "ap-south-1"
    assert lww_winner([]) is None


def test_local_reference_keeps_the_writes_made_in_the_window():
    from dashboard.measure.probes.lag_reference import local_reference

    document = {
        "metric": "ReplicationLatency",
        "pairs": [
            {
                "source": "us-west-2",
                "destination": "eu-central-1",
                "count": 4,
                "p50_ms": 999,
                "max_ms": 999,
                "recent": [
                    {"at": 100.5, "ms": 600},  # written at 99.9: before the window, applied inside it
                    {"at": 101.4, "ms": 400},
                    {"at": 102.5, "ms": 300},
                    {"at": 104.0, "ms": 350},  # applied after the window
                ],
            },
            {"source": "eu-central-1", "destination": "us-west-2", "recent": [{"at": 101.5, "ms": 1}]},
        ],
    }
    table = local_reference(document, "us-west-2", ["eu-central-1"], start_epoch_s=100.0, end_epoch_s=103.0)
    row = table.loc[("us-west-2", "eu-central-1")]
    assert (row["samples"], row["p50_ms"], row["max_ms"]) == (2, 350.0, 400.0)
    assert row["origin"] == "local replicator (window)"
    fallback = local_reference(document, "us-west-2", ["eu-central-1"], 200.0, 201.0).iloc[0]
    assert (fallback["p50_ms"], fallback["origin"]) == (999.0, "local replicator (all time)")


def test_pending_replication_reads_each_pairs_count_from_the_control_answer():
    from dashboard.measure.probes.lag_reference import pending_replication

    document = {
        "pairs": [
            {"source": "us-west-2", "destination": "eu-central-1", "pending_replication_count": 7, "p50_ms": 12},
            {"source": "eu-central-1", "destination": "us-west-2", "pending_replication_count": 0},
            {"source": "a", "destination": "b"},  # an older replicator: no figure, no row
        ]
    }
    table = pending_replication(document)
    assert table.to_dict("records") == [
        {"pair": "us-west-2 → eu-central-1", "PendingReplicationCount": 7},
        {"pair": "eu-central-1 → us-west-2", "PendingReplicationCount": 0},
    ]
    assert pending_replication({}).empty

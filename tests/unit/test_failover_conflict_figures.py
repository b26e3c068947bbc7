"""The failover and conflict figures (docs/MEASUREMENTS.md): each defined once, rounded once, never None without a
reason, and the text, table and chart marks drawn from the same values. Synthetic timelines with known answers."""

import json

import pandas as pd
import pytest

from dashboard import charts
from dashboard.measure import samples
from dashboard.measure.probes import conflict_figures, failover_figures
from dashboard.measure.probes.conflict import RESULT_COLUMNS, TIMELINE_COLUMNS

US, EU = "us-west-2", "eu-central-1"


def _timeline(points):
    """points: (sent_s, status, served_region, latency_ms) -> samples, as the failover probe records them."""
    rows = [
        {
            "timestamp": sent,
            "elapsed_s": sent,
            "target": "global",
            "operation": "read",
            "status": status,
            "ok": 200 <= status < 300 or status == 404,
            "latency_ms": latency,
            "served_region": region,
            "error": "" if 200 <= status < 300 else f"HTTP {status}",
        }
        for sent, status, region, latency in points
    ]
    return samples.to_frame(rows)


OUTAGE = [
    (0.0, 200, US, 10.0),
    (1.0, 200, US, 10.0),
    (
        1.99,
        503,
        US,
        20.0,
    ),  # sent before the outage started, answered after it: part of the outage, not served
    (2.1, 200, US, 5.0),  # a 2xx still from the failed region during the outage: not served
    (2.5, 404, EU, 100.0),  # a 404 is no answer to a read of a key every region holds: not served
    (3.2, 200, EU, 140.0),  # the move: answered at 3.34 s
    (5.0, 200, EU, 140.0),
    (6.1, 200, EU, 140.0),  # after the recovery, still the fallback: served
    (6.4, 200, US, 12.0),  # the move back: answered at 6.412 s
    (7.0, 200, US, 12.0),
]


def test_failover_figures_with_known_outage_times():
    timeline, f = failover_figures.figures(
        _timeline(OUTAGE), US, 2.0, 6.0, end_s=8.0, controlled=True, bound_s=2.0
    )
    assert (f["initial_region"], f["failed_region"], f["fallback_region"]) == (US, US, EU)
    assert (f["outage_start_s"], f["moved_away_s"], f["recovery_s"], f["moved_back_s"]) == (
        2.0,
        3.3,
        6.0,
        6.4,
    )
    assert f["outage_start_s"] < f["moved_away_s"] < f["recovery_s"] < f["moved_back_s"]
    # Durations are differences of the rounded instants, so what the page shows adds up.
    assert (f["failover_s"], f["failback_s"]) == (1.3, 0.4)
    assert (f["not_served_during_outage"], f["served_during_outage"]) == (3, 2)
    assert f["not_served"] == 3 and f["requests"] == len(OUTAGE) and f["within_bound"] is True
    assert f["why"] == {}
    by_sent = timeline.set_index("elapsed_s")
    assert by_sent.loc[1.99, "phase"] == "outage" and not by_sent.loc[1.99, "served"]
    assert not by_sent.loc[2.1, "served"] and by_sent.loc[6.1, "served"]
    json.dumps(f, allow_nan=False)  # the --json document: no NaN anywhere


def test_text_table_and_chart_marks_show_the_same_rounded_values():
    timeline, f = failover_figures.figures(_timeline(OUTAGE), US, 2.0, 6.0, end_s=8.0, controlled=True)
    table = dict(failover_figures.table(f).values.tolist())
    assert table["Failover"] == "1.3 s" and table["Moved back"] == "6.4 s"
    assert "1.3 s" in failover_figures.sentence(f) and "at 3.3 s" in failover_figures.sentence(f)
    fig = charts.failover_timeline(timeline, failover_figures.events(f))
    marks = {a.text: s.x0 for a, s in zip(fig.layout.annotations, fig.layout.shapes, strict=True)}
    assert marks == {
        "outage start 2.0 s": 2.0,
        "moved away 3.3 s": 3.3,
        "recovery 6.0 s": 6.0,
        "moved back 6.4 s": 6.4,
    }
    not_served = next(t for t in fig.data if t.name == "not served")
    assert len(not_served.x) == 3


def test_a_figure_that_did_not_happen_is_said_in_words():
    # Stopped at 4 s: down at 2 s, never moved away, never brought back.
    points = [(0.0, 200, US, 10.0), (1.0, 200, US, 10.0), (2.5, 503, US, 10.0), (3.5, 503, US, 10.0)]
    _, f = failover_figures.figures(
        _timeline(points), US, 2.0, None, end_s=4.0, controlled=True, stopped=True
    )
    assert f["moved_away_s"] is None and f["recovery_s"] is None and f["failover_s"] is None
    for key in ("moved_away_s", "recovery_s", "failover_s", "failback_s"):
        assert failover_figures.text(f, key) == f["why"][key] and "None" not in f["why"][key]
    assert "stopped at 4.0 s" in f["why"]["recovery_s"]
    assert "no other region answered" in f["why"]["moved_away_s"]
    assert "None" not in failover_figures.sentence(f) and "None" not in failover_figures.table(f).to_string()


def test_observing_only_infers_the_outage_and_cannot_know_the_recovery():
    points = [(0.0, 200, US, 1.0), (1.0, 503, US, 1.0), (2.0, 200, EU, 1.0), (3.0, 200, US, 1.0)]
    _, f = failover_figures.figures(_timeline(points), None, None, None, end_s=4.0, controlled=False)
    assert (f["outage_start_s"], f["moved_away_s"], f["moved_back_s"]) == (1.0, 2.0, 3.0)
    assert f["failover_s"] == 1.0 and f["recovery_s"] is None and f["failback_s"] is None
    assert "only watched" in f["why"]["recovery_s"]


def _results():
    rows = [
        {c: None for c in RESULT_COLUMNS}
        | {
            "trial": t,
            "converged": True,
            "follows_lww": True,
            "winner_region": EU,
            "expected_region": EU,
            "winner_value": f"{EU}:r:{t}",
            "losers": US,
            "write_spread_ms": 64.0,
            "converge_ms": float(c),
            "resolution_ms": 150.0,
            "error": "",
        }
        for t, c in ((0, 700), (1, 781), (2, 779))
    ]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def test_conflict_figures_are_whole_ms_and_the_chart_marks_the_same_agreement():
    assert conflict_figures.since_ms(10.2345, 10.0) == 235 and conflict_figures.since_ms(9.0, 10.0) == 0
    results = _results()
    figures = conflict_figures.run_figures(results)
    assert figures == {
        "trials": 3,
        "converged": 3,
        "follows_lww": 3,
        "converge_p50_ms": 779,
        "wins": {EU: 3},
        "why": {},
    }
    assert "agreed in 779 ms" in conflict_figures.summary_line(figures)
    trial = conflict_figures.trials(results)[1]
    assert trial["converge_ms"] == 781 and isinstance(trial["write_spread_ms"], int)
    assert "781 ms after the writes" in conflict_figures.explain_winner(results.iloc[1])
    assert "stamped 64 ms later" in conflict_figures.explain_winner(results.iloc[1])
    timeline = pd.DataFrame(
        [
            {"trial": 1, "round": r, "elapsed_s": 0.0, "since_writes_ms": ms, "region": region, "value": v}
            for r, ms, region, v in (
                (1, 150, US, f"{US}:r:1"),
                (1, 160, EU, f"{EU}:r:1"),
                (2, 781, US, f"{EU}:r:1"),
            )
        ],
        columns=TIMELINE_COLUMNS,
    )
    observations = conflict_figures.observations(timeline, 1)
    assert observations["since_writes_ms"].max() == trial["converge_ms"]
    fig = charts.value_timeline(observations, agreed_ms=trial["converge_ms"])
    assert fig.layout.shapes[0].x0 == 781 and fig.layout.annotations[-1].text == "agreed 781 ms"


def test_no_converged_trial_says_why():
    results = _results().assign(converged=False, converge_ms=float("nan"), error="regions did not agree")
    figures = conflict_figures.run_figures(results)
    assert figures["converge_p50_ms"] is None and "did not agree" in figures["why"]["converge_p50_ms"]
    assert conflict_figures.trials(results)[0]["converge_ms"] is None
    json.dumps(figures, allow_nan=False)


@pytest.mark.parametrize("status", [500, 503, 0])
def test_only_a_2xx_is_served(status):
    points = [(0.0, 200, US, 1.0), (2.5, status, EU, 1.0)]
    timeline, f = failover_figures.figures(_timeline(points), US, 2.0, 6.0, end_s=7.0, controlled=True)
    assert not timeline["served"].iloc[-1] and f["moved_away_s"] is None

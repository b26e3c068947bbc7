"""The consistency figures (MREC next to MRSC), from hand-made samples: each figure as docs/MEASUREMENTS.md
defines it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard.measure.cloud_pair import check_mrsc_regions
from dashboard.measure.errors import ProbeError
from dashboard.measure.probes import consistency_figures as cf
from dashboard.measure.probes.consistency import run_consistency, settings_of
from dashboard.measure.targets import TargetSet

E1, E2, W2 = "us-east-1", "us-east-2", "us-west-2"


def row(**fields) -> dict:
    base = {c: "" for c in cf.SAMPLE_COLUMNS}
    base.update(n=0, status=200, ok=True, latency_ms=math.nan, sent_ms=math.nan, answered_ms=math.nan)
    base.update(stale=False, stale_ms=math.nan, reads=1)
    base.update(fields)
    return base


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=cf.SAMPLE_COLUMNS)


def conflict(side, key, region, status, value, final, sent, answered, seen=None) -> dict:
    """A racing write; ``seen``: a strong read after the race returned it (default: only if it is the final)."""
    seen = value == final and status == 200 if seen is None else seen
    return row(side=side, phase="conflict", key=key, region=region, op="write", status=status, value=value,
               final_value=final, sent_ms=sent, answered_ms=answered, seen_after=seen)  # fmt: skip


def test_an_acknowledged_write_read_back_after_the_race_then_replaced_is_lost():
    df = frame(
        [
            conflict(
                "MREC", "k", E1, 200, "a", "b", 0.0, 5.0, seen=True
            ),  # us-east-1 still said "a" after both
            conflict("MREC", "k", E2, 200, "b", "b", 1.0, 6.0),
        ]
    )
    assert cf.outcomes(df).tolist() == ["lost", "kept"]


def test_a_write_rejected_with_409_is_rejected_not_lost():
    df = frame(
        [
            conflict("MRSC", "k", E1, 409, "a", "b", 0.0, 5.0),
            conflict("MRSC", "k", E2, 200, "b", "b", 1.0, 6.0),
        ]
    )
    assert cf.outcomes(df).tolist() == ["rejected", "kept"]


def test_an_overwrite_no_read_after_the_race_contradicts_supersedes_and_other_answers_fail():
    df = frame(
        [
            conflict("MRSC", "k", E1, 200, "a", "b", 0.0, 5.0),  # overlapping, but every read after says "b"
            conflict("MRSC", "k", E2, 200, "b", "b", 1.0, 9.0),
            conflict("MRSC", "k", W2, 503, "c", "b", 0.0, 1.0),
            conflict("MRSC", "k2", W2, 0, "d", "", 0.0, 2000.0),  # timeout: no answer
        ]
    )
    assert cf.outcomes(df).tolist() == ["superseded", "kept", "failed", "failed"]


def test_outcomes_are_per_side_and_key():
    df = frame(
        [
            conflict("MREC", "k", E1, 200, "a", "a", 0.0, 5.0),
            conflict("MRSC", "k", E2, 200, "b", "b", 1.0, 6.0),  # same key name in the other cloud
        ]
    )
    assert cf.outcomes(df).tolist() == ["kept", "kept"]


def write_phase(side="MREC") -> list[dict]:
    latencies = {E1: [10.0, 20.0, 30.0], E2: [5.0, 5.0, 105.0]}
    rows = [
        row(side=side, phase="write", region=region, op="write", latency_ms=ms, key=f"{region}-{i}")
        for region, values in latencies.items()
        for i, ms in enumerate(values)
    ]
    rows.append(row(side=side, phase="write", region=E1, op="write", status=503, latency_ms=999.0))
    # reads in E2 of E1's writes: eventual stale twice (12 ms and 30 ms), once never fresh; strong never stale
    for stale, stale_ms in ((True, 12.0), (True, 30.0), (True, math.nan), (False, 0.0)):
        rows.append(row(side=side, phase="write", region=E2, op="eventual", source_region=E1, stale=stale,
                        stale_ms=stale_ms))  # fmt: skip
        rows.append(row(side=side, phase="write", region=E2, op="strong", source_region=E1, stale_ms=0.0))
    return rows


def test_write_latency_and_staleness_per_region():
    table = cf.region_table(frame(write_phase()))
    e1 = table.set_index(["side", "region"]).loc[("MREC", E1)]
    assert (e1["writes"], e1["write_p50_ms"]) == (4, 20.0)  # the failed write counts as made, not in latency
    assert e1["write_p99_ms"] == pytest.approx(round(float(pd.Series([10.0, 20.0, 30.0]).quantile(0.99)), 1))
    e2 = table.set_index(["side", "region"]).loc[("MREC", E2)]
    assert (e2["eventual_stale"], e2["eventual_checks"], e2["eventual_stale_pct"]) == (3, 4, 75)
    assert (e2["eventual_stale_p50_ms"], e2["eventual_stale_max_ms"], e2["eventual_never"]) == (21, 30, 1)
    assert (e2["strong_stale"], e2["strong_checks"], e2["strong_stale_pct"]) == (0, 4, 0)
    assert e2["strong_stale_p50_ms"] is None


def isolation(side, isolated, answers: dict) -> list[dict]:
    """answers: region -> {op: [statuses]}"""
    return [
        row(side=side, phase="isolation", region=region, op=op, status=status, isolated=isolated)
        for region, ops in answers.items()
        for op, statuses in ops.items()
        for status in statuses
    ]


def test_availability_during_isolation_per_region_and_for_the_cut_off_one():
    answers = {
        W2: {"write": [503, 503], "strong": [503, 200], "eventual": [200, 200]},
        E1: {"write": [200, 200], "strong": [200, 200], "eventual": [200, 200]},
    }
    df = frame(isolation("MRSC", W2, answers))
    figures = cf.figures(df, {"regions": [E1, W2]})
    rows = {r["region"]: r for r in figures["regions"]}
    assert [r["region"] for r in figures["regions"]] == [E1, W2]  # in the workload's order
    assert (rows[W2]["isolated"], rows[W2]["write_avail_pct"], rows[W2]["strong_avail_pct"]) == (True, 0, 50)
    assert (rows[W2]["eventual_avail_pct"], rows[E1]["isolated"], rows[E1]["write_avail_pct"]) == (
        100,
        False,
        100,
    )
    totals = figures["sides"]["MRSC"]
    assert totals["isolated_region"] == W2
    assert (totals["isolated_write_avail_pct"], totals["isolated_strong_avail_pct"]) == (0, 50)
    assert cf.table(figures).set_index("region").loc[W2, "cut off: write/strong/eventual ok"] == (
        "0%/50%/100% (cut off)"
    )


def test_figures_table_and_verdict_agree_on_one_run_of_both_sides():
    rows = write_phase("MREC") + write_phase("MRSC")
    rows += [
        conflict("MREC", "k", E1, 200, "a", "b", 0.0, 5.0, seen=True),
        conflict("MREC", "k", E2, 200, "b", "b", 1.0, 6.0),
        conflict("MRSC", "k", E1, 409, "a", "b", 0.0, 5.0),
        conflict("MRSC", "k", E2, 200, "b", "b", 1.0, 6.0),
    ]
    figures = cf.figures(frame(rows), {"regions": [E1, E2]})
    mrec, mrsc = figures["sides"]["MREC"], figures["sides"]["MRSC"]
    assert (mrec["conflict_lost"], mrec["conflict_rejected"], mrec["conflict_trials"]) == (1, 0, 1)
    assert (mrsc["conflict_lost"], mrsc["conflict_rejected"], mrsc["conflict_kept"]) == (0, 1, 1)
    shown = cf.table(figures).set_index(["side", "region"])
    assert shown.loc[("MREC", E1), "conflicts ack/rej/lost"] == "1/0/1"
    assert shown.loc[("MRSC", E1), "conflicts ack/rej/lost"] == "0/1/0"
    assert shown.loc[("MREC", E2), "eventual reads stale (for, p50)"] == "3/4 (21 ms)"
    assert shown.loc[("MREC", E2), "strong reads stale (for, p50)"] == "0/4"
    assert "1 rejected, 0 lost" in cf.verdict("MRSC", mrsc)
    assert "2 acknowledged, 0 rejected, 1 lost, 0 overwritten in order" in cf.verdict("MREC", mrec)
    long = cf.long_form(figures, ("write_p50_ms",))
    assert set(long["side"]) == {"MREC", "MRSC"} and len(long) == 4


def test_an_empty_run_has_empty_figures():
    figures = cf.figures(frame([]))
    assert figures["regions"] == [] and figures["sides"] == {}
    assert list(cf.table(figures).columns) == list(cf.TABLE.values())


def test_mrsc_takes_three_regions_of_one_set_or_two_and_a_witness():
    assert check_mrsc_regions([E1, E2, W2]) == [E1, E2, W2]
    assert check_mrsc_regions([E1, E2], witness=W2) == [E1, E2]
    for regions, witness in (([E1, E2], None), ([E1, E2, W2], W2), ([E1, "eu-west-1", W2], None)):
        with pytest.raises(ProbeError):
            check_mrsc_regions(regions, witness)


def test_the_workload_is_checked_before_any_request():
    with pytest.raises(ProbeError, match="writes"):
        settings_of(writes=0)
    assert settings_of(trials=0, isolation_rounds=0)["trials"] == 0
    sides = {"MREC": TargetSet({E1: "http://127.0.0.1:9/dev", E2: "http://127.0.0.1:9/dev"})}
    with pytest.raises(ProbeError, match="control"):
        run_consistency(sides, None, writes=1)
    with pytest.raises(ProbeError, match="isolate"):
        run_consistency(sides, {"MREC": object()}, isolate=W2, writes=1)
    with pytest.raises(ProbeError, match="two regions"):
        run_consistency(sides, regions=[E1], isolation_rounds=0)


def test_the_charts_draw_the_figures_one_colour_per_side():
    from dashboard import charts
    from dashboard.charts.palette import OUTCOME_COLORS, SIDE_COLORS

    rows = write_phase("MREC") + write_phase("MRSC")
    rows += [
        conflict("MREC", "k", E1, 200, "a", "b", 0.0, 5.0, seen=True),
        conflict("MREC", "k", E2, 200, "b", "b", 1.0, 6.0),
    ]
    rows += isolation("MRSC", E2, {E2: {"write": [503], "strong": [503], "eventual": [200]}})
    figures = cf.figures(frame(rows), {"regions": [E1, E2]})
    latency = charts.write_latency(cf.long_form(figures, ("write_p50_ms", "write_p99_ms")))
    assert {t.name for t in latency.data} == {"MREC p50", "MREC p99", "MRSC p50", "MRSC p99"}
    assert {t.marker.color for t in latency.data} == set(SIDE_COLORS.values())
    stale = charts.stale_reads(cf.long_form(figures, ("eventual_stale_pct", "strong_stale_pct")))
    mrec_eventual = next(t for t in stale.data if t.name == "MREC eventual reads")
    assert dict(zip(mrec_eventual.x, mrec_eventual.y, strict=True)) == {E2: 75.0}
    outcomes_fig = charts.conflict_outcomes(cf.outcome_counts(figures))
    lost = next(t for t in outcomes_fig.data if t.name == "lost")
    assert dict(zip(lost.x, lost.y, strict=True)) == {"MREC": 1, "MRSC": 0}  # none lost is drawn too: a 0
    assert lost.marker.color == OUTCOME_COLORS["lost"]
    avail = charts.availability(
        cf.long_form(figures, ("write_avail_pct", "strong_avail_pct", "eventual_avail_pct"))
    )
    assert [t.name for t in avail.data] == ["MRSC writes", "MRSC strong reads", "MRSC eventual reads"]
    empty = cf.figures(frame([]))
    assert charts.availability(cf.long_form(empty, ("write_avail_pct",))).layout.annotations
    assert charts.conflict_outcomes(cf.outcome_counts(empty)).layout.annotations


def test_a_kept_consistency_run_compares_by_write_latency_per_cloud_and_region(tmp_path):
    from dashboard.measure.runs import compare
    from dashboard.measure.runs.context import build_context
    from dashboard.measure.runs.recorder import Recording
    from dashboard.measure.runs.store import RunStore

    store = RunStore(tmp_path / "runs.sqlite")
    targets = TargetSet({E1: "http://127.0.0.1:9/dev", E2: "http://127.0.0.1:9/dev"}, control_url="http://c")
    ids = []
    for _ in range(2):
        context = build_context(targets, {}, [E1, E2], "Seattle", "none")
        with Recording(store, "consistency", context) as recording:
            samples = frame(write_phase("MREC") + write_phase("MRSC"))
            recording.complete({"samples": samples}, cf.figures(samples))
        ids.append(recording.id)
    assert store.get(ids[0])["summary"]["sides"]["MREC"]["eventual_stale"] == 3
    table = compare.compare(store, ids).table
    assert (
        table.loc[("MREC us-east-1", "count"), "A"] == 4
    )  # the writes made in the region, not the read checks
    assert table.loc[("MRSC us-east-2", "p50"), "B"] == 5.0


def test_the_table_shows_each_figure_at_its_rounding_and_a_dash_for_none():
    figures = cf.figures(frame(write_phase("MRSC")), {"regions": [E1, E2]})
    shown = cf.table(figures).set_index("region")
    assert (shown.loc[E1, "write p50 ms"], shown.loc[E2, "write p99 ms"]) == ("20.0", "103.0")
    assert (
        shown.loc[E2, "eventual reads stale (for, p50)"],
        shown.loc[E1, "strong reads stale (for, p50)"],
    ) == (
        "3/4 (21 ms)",
        "-",
    )

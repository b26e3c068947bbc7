"""The guided tour's five steps: each drives the engine and the local cloud's control API and returns a
``StepResult`` (a verdict, a table, a ``Chart`` to draw)."""

from __future__ import annotations

import pandas as pd

from dashboard.measure.probes import conflict as conflict_probe
from dashboard.measure.probes import conflict_figures, failover_figures
from dashboard.measure.probes import failover as failover_probe
from dashboard.measure.probes import lag as lag_probe
from dashboard.measure.probes.lag_math import lag_summary
from dashboard.measure.targets import GLOBAL
from dashboard.measure.timed_client import TimedClient
from dashboard.measure.tour.context import (
    Chart,
    StepResult,
    TourContext,
    TourError,
    city_near,
    current_location,
    pause,
    resume,
    set_location,
)

# How long step 2 waits for the paused write to arrive once replication is back ("typically within a second").
CATCH_UP_TIMEOUT_S = 10.0
GEO_READS = 5


def _read_everywhere(ctx: TourContext, key: str) -> pd.DataFrame:
    rows = []
    for region in ctx.regions:
        with TimedClient(region, ctx.targets.url(region), timeout_s=5.0) as client:
            result = client.read(key)
        body = result.body if isinstance(result.body, dict) else {}
        rows.append(
            {
                "region": region,
                "status": result.row["status"],
                "value": body.get("value") if result.row["status"] == 200 else "(missing)",
                "writeRegion": body.get("writeRegion", ""),
                "readRegion": body.get("readRegion", ""),
                "latency_ms": round(result.row["latency_ms"], 1),
                "error": result.row["error"],
            }
        )
    return pd.DataFrame(rows)


def _write(ctx: TourContext, region: str, key: str, value: str):
    with TimedClient(region, ctx.targets.url(region), timeout_s=5.0) as client:
        result = client.write(key, value)
    if not result.ok:
        raise TourError(f"the write in {region} failed: {result.row['error']}")
    return result


def step_isolated(ctx: TourContext) -> StepResult:
    for region in ctx.regions:
        pause(ctx.control, region)
    _write(ctx, ctx.home, ctx.key, "It worked")
    table = _read_everywhere(ctx, ctx.key)
    home = table[table.region == ctx.home].iloc[0]
    away = table[table.region == ctx.away].iloc[0]
    ok = home["status"] == 200 and away["status"] == 404
    summary = (
        f"Written in {ctx.home}, found there; {ctx.away} answers HTTP {away['status']}: the regions are two "
        "separate stacks, each with its own table."
        if ok
        else f"Unexpected: {ctx.home} answered {home['status']}, {ctx.away} answered {away['status']}."
    )
    chart = Chart(
        "region_latency_bars", table, {"title": f"Reading '{ctx.key}' in each region (replication off)"}
    )
    return StepResult(ok, summary, table, chart)


def step_replication(ctx: TourContext) -> StepResult:
    resumed_at = ctx.clock()
    for region in ctx.regions:
        resume(ctx.control, region)
    deadline = resumed_at + CATCH_UP_TIMEOUT_S
    while True:
        table = _read_everywhere(ctx, ctx.key)
        if (table["status"] == 200).all():
            break
        if ctx.clock() > deadline:
            return StepResult(
                False,
                f"The key did not reach every region within {CATCH_UP_TIMEOUT_S:.0f} s of "
                "resuming replication.",
                table,
            )
        ctx.sleep(0.05)
    caught_up_ms = (ctx.clock() - resumed_at) * 1000.0
    lags = lag_probe.run_lag(
        ctx.targets, ctx.home, [r for r in ctx.regions if r != ctx.home], probes=5, timeout_s=10.0
    )
    summary_table = lag_summary(lags)
    seen = lags[lags["status"] == "seen"]
    p50 = float(seen["lag_ms"].median()) if not seen.empty else float("nan")
    ok = (table["status"] == 200).all() and len(seen) == len(lags)
    summary = (
        f"Replication back on: the paused write reached every region {caught_up_ms:.0f} ms after resuming. "
        f"Fresh writes in {ctx.home} now show up elsewhere after {p50:.0f} ms (median of {len(seen)} probes)."
    )
    return StepResult(
        ok,
        summary,
        summary_table.reset_index().round(1),
        Chart("lag_distribution", lags, {"title": f"Replication lag from {ctx.home}"}),
        {"lags": lags, "caught_up_ms": caught_up_ms},
    )


def step_geo(ctx: TourContext) -> StepResult:
    if not ctx.targets.global_url:
        return StepResult(False, "This local cloud has no global endpoint.")
    original = current_location(ctx.control)
    rows = []
    try:
        for region in (ctx.home, ctx.away):
            city = city_near(region)
            set_location(ctx.control, city)
            with TimedClient(GLOBAL, ctx.targets.global_url, timeout_s=5.0) as client:
                for _ in range(GEO_READS):
                    result = client.read(ctx.key)
                    rows.append(
                        {
                            "client location": city,
                            "served by": result.row["served_region"],
                            "latency_ms": result.row["latency_ms"],
                            "status": result.row["status"],
                        }
                    )
    finally:
        if original:
            set_location(ctx.control, original)
    reads = pd.DataFrame(rows)
    table = (
        reads.groupby(["client location", "served by"], sort=False)["latency_ms"]
        .agg(reads="count", p50_ms="median")
        .reset_index()
        .round(1)
    )
    by_city = reads.groupby("client location", sort=False)["served by"].agg(lambda s: s.mode().iat[0])
    expected = {city_near(ctx.home): ctx.home, city_near(ctx.away): ctx.away}
    ok = all(by_city.get(city) == region for city, region in expected.items())
    summary = (
        "; ".join(
            f"from {city}, the global endpoint answered from {by_city.get(city, '?')}" for city in expected
        )
        + "."
    )
    chart = Chart(
        "geo_reads", reads, {"title": "One URL, the nearest region: reads through the global endpoint"}
    )
    return StepResult(ok, summary, table, chart, {"reads": reads})


def step_conflict(ctx: TourContext) -> StepResult:
    results, timeline = conflict_probe.run_conflict(ctx.targets, [ctx.home, ctx.away], trials=1)
    row = results.iloc[0]
    if not row["converged"]:
        return StepResult(
            False, f"The regions did not agree: {row['error']}", conflict_figures.table(results)
        )
    trial = conflict_figures.trials(results)[0]
    summary = conflict_figures.explain_winner(row).replace("**", "")
    return StepResult(
        bool(row["follows_lww"]),
        summary,
        conflict_figures.table(results),
        Chart(
            "value_timeline",
            conflict_figures.observations(timeline, trial["trial"]),
            {"title": "Each region's value until they agree", "agreed_ms": trial["converge_ms"]},
        ),
        {"results": results, "timeline": timeline, "figures": trial},
    )


def step_failover(
    ctx: TourContext, duration_s: float = 14.0, down_at_s: float = 2.0, up_at_s: float = 8.0
) -> StepResult:
    if not ctx.targets.global_url:
        return StepResult(False, "This local cloud has no global endpoint.")
    timeline, figures = failover_probe.run_failover(
        ctx.targets,
        control=ctx.control,
        duration_s=duration_s,
        down_at_s=down_at_s,
        up_at_s=up_at_s,
        rate=10.0,
    )
    ok = all(figures.get(k) is not None for k in failover_figures.INSTANTS)
    return StepResult(
        ok,
        failover_figures.sentence(figures),
        failover_figures.table(figures),
        Chart("failover_timeline", timeline, {"events": failover_figures.events(figures)}),
        {"timeline": timeline, "figures": figures},
    )

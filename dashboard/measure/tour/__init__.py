"""The guided tour: the walkthrough's story, step by step, live on the local cloud. Pure logic, no Streamlit.

Each step has a title, a short explanation for the audience, and a `run(ctx)` that drives the engine and the
local cloud's control API and returns a `StepResult` (a one-line verdict, a table, and a `Chart`: which chart of
`dashboard.charts` to draw from which data). The page only draws them, so the tour is testable without a browser,
the story lives in one place, and the engine stays free of drawing code.

The story (two regions, `home` and `away`, the walkthrough's us-west-2 and eu-central-1 by default):
1. Isolated regions: replication paused, a key written in `home` is missing in `away` (the walkthrough's error).
2. Global tables: replication resumed; the key appears in `away`, and probes measure the lag.
3. Geo routing: the same read through the global endpoint from a city near each region is served by that region.
4. Conflict: both regions write the key at once; last writer wins, the same winner everywhere.
5. Outage: the region nearest the client goes down; the global endpoint fails over, then comes back.
"""

from __future__ import annotations

from dashboard.measure.probes import failover as failover_probe
from dashboard.measure.tour.context import (
    Chart,
    Step,
    StepResult,
    TourContext,
    TourError,
    city_near,
    context,
    current_location,
    new_key,
    pause,
    resume,
    set_location,
)
from dashboard.measure.tour.steps import (
    step_conflict,
    step_failover,
    step_geo,
    step_isolated,
    step_replication,
)

__all__ = [
    "STEPS",
    "Chart",
    "Step",
    "StepResult",
    "TourContext",
    "TourError",
    "city_near",
    "context",
    "current_location",
    "new_key",
    "pause",
    "restore",
    "reset",
    "resume",
    "set_location",
]

STEPS = [
    Step(
        "isolated",
        "1. Two isolated regions",
        "The walkthrough first deploys the same stack in two regions. Each has its own DynamoDB table, so a key "
        "written in one region does not exist in the other. We pause replication to show exactly that.",
        step_isolated,
    ),
    Step(
        "replication",
        "2. Global tables: replication on",
        "DynamoDB global tables replicate every write asynchronously to the other regions, 'typically within a "
        "second'. We switch replication back on: the key appears in the other region, and probes measure the lag.",
        step_replication,
    ),
    Step(
        "geo",
        "3. One URL, the nearest region",
        "Route 53 latency records send each client to the region with the lowest latency. We read through the "
        "global endpoint from a city near each region: the serving region follows the client.",
        step_geo,
    ),
    Step(
        "conflict",
        "4. Two writers, one winner",
        "Multi-master means both regions accept writes. When they write the same key at the same moment, global "
        "tables keep the last writer's value everywhere (last writer wins).",
        step_conflict,
    ),
    Step(
        "failover",
        "5. A region goes down",
        "Route 53 health checks stop sending traffic to a region that fails. We take the client's nearest region "
        "down, watch the global endpoint move to the next one, then bring it back.",
        step_failover,
    ),
]


def restore(ctx: TourContext) -> None:
    """Leaves the local cloud as the tour found it: replication on and every region up, whatever step failed."""
    for region in ctx.regions:
        for action in (resume, failover_probe.bring_up):
            try:
                action(ctx.control, region)
            except Exception:  # best effort: one failing call must not keep the others from restoring
                pass


def reset(ctx: TourContext) -> None:
    """ "Reset demo": the cloud as the tour found it (``restore``) and the tour's key deleted in every region."""
    from dashboard.measure.timed_client import TimedClient

    restore(ctx)
    for region in ctx.regions:
        try:
            with TimedClient(region, ctx.targets.url(region), timeout_s=5.0) as client:
                client.delete(ctx.key)
        except (
            Exception
        ):  # best effort, like restore: one region failing must not keep the others from resetting
            pass

"""The failover figures: each one defined here, computed here, rounded here (docs/MEASUREMENTS.md, "Failover").

The page, the guided tour, ``mrkv-probe failover`` (tables and ``--json``) and the run store all show what
``figures`` returns, through ``describe`` (the words) and ``events`` (the chart's marks): nothing recomputes or
re-rounds a figure elsewhere, so text, tables and charts cannot disagree.

One clock: seconds since the probe started (``time.perf_counter`` at the start of the run). Each request is placed
at the moment its **answer** arrived (``at_s``: sent + latency): that is when the client learns anything.

* ``outage_start_s``: the moment the probe asked the control API to take the region down (observing only, on AWS:
  the first answer that was not served, or the first served by another region, whichever came first).
* ``moved_away_s``: the first answer at or after the outage start that was *served by another region*.
* ``recovery_s``: the moment the probe asked the control API to bring the region back (observing: unknown).
* ``moved_back_s``: the first answer at or after the recovery (observing: after the move away) served by the
  failed region again.
* ``failover_s`` = ``moved_away_s`` - ``outage_start_s``; ``failback_s`` = ``moved_back_s`` - ``recovery_s``.

**Served** means an HTTP 2xx from the expected region: before the outage the initial region, during it any region
but the failed one, after the recovery any region. A 503, a timeout, a 404, or a 2xx still coming from the failed
region during the outage is *not served*. Instants are rounded once, to ``DECIMALS`` (0.1 s: one request interval
at the default 10 requests a second); durations are differences of the rounded instants, so they add up on screen.
A figure that could not be measured is None in ``figures`` and its reason, in words, is in ``figures["why"]``.
"""

from __future__ import annotations

import math

import pandas as pd

DECIMALS = 1
INSTANTS = ("outage_start_s", "moved_away_s", "recovery_s", "moved_back_s")
# (key, label) in the order the page, the CLI and the tour show them.
LABELS = {
    "failed_region": "Region taken down",
    "initial_region": "Serving before",
    "fallback_region": "Serving during the outage",
    "outage_start_s": "Outage start",
    "moved_away_s": "Moved away",
    "recovery_s": "Recovery",
    "moved_back_s": "Moved back",
    "failover_s": "Failover",
    "failback_s": "Failback",
    "not_served_during_outage": "Not served during the outage",
    "served_during_outage": "Served during the outage",
    "requests": "Requests",
    "bound_s": "Router bound",
    "bound_seen_s": "Router bound, as the client sees it",
}


def seconds(value: float | None) -> float | None:
    """The one rounding of a time in seconds."""
    return None if value is None or math.isnan(value) else round(float(value), DECIMALS)


def _difference(later: float | None, earlier: float | None) -> float | None:
    return None if later is None or earlier is None else round(later - earlier, DECIMALS)


def annotate(timeline: pd.DataFrame, failed_region: str, initial: str, start, recovery) -> pd.DataFrame:
    """Adds ``at_s`` (answer moment), ``phase`` (before | outage | after) and ``served`` to the samples."""
    timeline = timeline.copy()
    timeline["at_s"] = timeline["elapsed_s"] + timeline["latency_ms"].fillna(0.0) / 1000.0
    timeline = timeline.sort_values("at_s", kind="stable").reset_index(drop=True)
    phase = pd.Series("before", index=timeline.index)
    if start is not None:
        phase[timeline["at_s"] >= start] = "outage"
    if recovery is not None:
        phase[timeline["at_s"] >= recovery] = "after"
    timeline["phase"] = phase
    status = timeline["status"].astype(int)
    region = timeline["served_region"].astype(str)
    two_xx = (status >= 200) & (status < 300) & (region != "")
    expected = pd.Series(True, index=timeline.index)
    expected[phase == "before"] = region[phase == "before"] == initial if initial else True
    expected[phase == "outage"] = region[phase == "outage"] != failed_region
    timeline["served"] = two_xx & expected
    return timeline


def _initial_region(timeline: pd.DataFrame, start: float | None) -> str:
    answered = timeline[(timeline["status"] // 100 == 2) & (timeline["served_region"].astype(str) != "")]
    at = answered["elapsed_s"] + answered["latency_ms"] / 1000.0
    before = answered[at < start] if start is not None else answered
    pool = before if len(before) else answered
    return str(pool["served_region"].mode().iloc[0]) if len(pool) else ""


def _first(timeline: pd.DataFrame, mask) -> float | None:
    hits = timeline.loc[mask, "at_s"]
    return float(hits.iloc[0]) if len(hits) else None


def figures(
    timeline: pd.DataFrame,
    failed_region: str | None,
    outage_start_s: float | None,
    recovery_s: float | None,
    end_s: float,
    controlled: bool,
    stopped: bool = False,
    bound_s: float | None = None,
    rate: float = 10.0,
) -> tuple[pd.DataFrame, dict]:
    """(the annotated timeline, the figures). ``outage_start_s`` / ``recovery_s``: when the probe asked for them
    (None if it never did); ``end_s``: when the run ended; ``controlled``: the probe caused the outage."""
    initial = _initial_region(timeline, outage_start_s if controlled else None)
    failed_region = failed_region or initial
    if not controlled:
        at = timeline["elapsed_s"] + timeline["latency_ms"].fillna(0.0) / 1000.0
        status = timeline["status"].astype(int)
        trouble = (status // 100 != 2) | (timeline["served_region"].astype(str) != failed_region)
        outage_start_s = float(at[trouble].min()) if trouble.any() else None
        recovery_s = None
    timeline = annotate(timeline, failed_region, initial, outage_start_s, recovery_s)
    region = timeline["served_region"].astype(str)
    two_xx = timeline["status"].astype(int) // 100 == 2
    moved_away = back_from = None
    if outage_start_s is not None:
        moved_away = _first(
            timeline, two_xx & (region != failed_region) & (timeline["at_s"] >= outage_start_s)
        )
        back_from = recovery_s if controlled else moved_away
    moved_back = None
    if back_from is not None:
        moved_back = _first(timeline, two_xx & (region == failed_region) & (timeline["at_s"] >= back_from))
    outage = timeline[timeline["phase"] == "outage"]
    served_outage = outage[outage["served"]]
    fallback = served_outage["served_region"].astype(str)
    result = {
        "failed_region": failed_region,
        "initial_region": initial,
        "fallback_region": str(fallback.mode().iloc[0]) if len(fallback) else None,
        "controlled": controlled,
        "outage_start_s": seconds(outage_start_s),
        "moved_away_s": seconds(moved_away),
        "recovery_s": seconds(recovery_s),
        "moved_back_s": seconds(moved_back),
        "served_during_outage": int(len(served_outage)),
        "not_served_during_outage": int(len(outage) - len(served_outage)),
        "served_by_region_during_outage": {str(k): int(v) for k, v in fallback.value_counts().items()},
        "requests": int(len(timeline)),
        "not_served": int((~timeline["served"]).sum()),
        "bound_s": seconds(bound_s),
    }
    result["failover_s"] = _difference(result["moved_away_s"], result["outage_start_s"])
    result["failback_s"] = _difference(result["moved_back_s"], result["recovery_s"])
    # The router moves within bound_s; the client sees it at its next request (one interval later at most), when
    # that request's answer arrives: the bound as the client sees it allows for both.
    latency = timeline.loc[timeline["at_s"] == moved_away, "latency_ms"] if moved_away is not None else []
    result["bound_seen_s"] = (
        seconds(bound_s + 1.0 / rate + float(latency.iloc[0]) / 1000.0)
        if bound_s is not None and len(latency)
        else None
    )
    result["within_bound"] = (
        None
        if result["bound_seen_s"] is None or result["failover_s"] is None
        else bool(result["failover_s"] <= result["bound_seen_s"])
    )
    result["why"] = _why(result, controlled, stopped, seconds(end_s))
    return timeline, result


def _why(f: dict, controlled: bool, stopped: bool, end: float | None) -> dict:
    """Why each missing figure is missing, in words a presenter can read out."""
    ended = f"the run was stopped at {end} s" if stopped else f"the run ended at {end} s"
    why = {}
    if f["outage_start_s"] is None:
        why["outage_start_s"] = (
            f"{ended} before the region was taken down"
            if controlled
            else f"every answer came from {f['failed_region'] or 'one region'}: no outage was seen"
        )
    if f["moved_away_s"] is None and f["outage_start_s"] is not None:
        until = f"the recovery at {f['recovery_s']} s" if f["recovery_s"] is not None else "the end"
        why["moved_away_s"] = f"no other region answered through the global endpoint before {until}"
    if f["recovery_s"] is None and f["outage_start_s"] is not None:
        why["recovery_s"] = (
            f"{ended} before the region was brought back"
            if controlled
            else "the probe only watched (you caused the outage): it cannot know when the region came back"
        )
    if f["moved_back_s"] is None and (f["recovery_s"] is not None or not controlled):
        if f["outage_start_s"] is not None:
            why["moved_back_s"] = f"{f['failed_region']} had not served again when {ended}"
    for duration, (a, b) in {
        "failover_s": ("moved_away_s", "outage_start_s"),
        "failback_s": ("moved_back_s", "recovery_s"),
    }.items():
        if f[duration] is None:
            missing = next((k for k in (b, a) if f[k] is None), None)
            if missing is not None and missing in why:
                why[duration] = f"no {LABELS[missing].lower()}: {why[missing]}"
            elif missing is not None:
                why[duration] = f"no {LABELS[missing].lower()}"
    if f["bound_s"] is None:
        why["bound_s"] = "the router's settings are unknown (no control API reports them, e.g. on AWS)"
    if f["bound_seen_s"] is None:
        why["bound_seen_s"] = why.get("bound_s") or why.get("moved_away_s") or "no move away was seen"
    return why


def text(f: dict, key: str) -> str:
    """One figure as the page, the tour and the CLI show it: the rounded value with its unit, or why it is missing."""
    value = f.get(key)
    if value is None:
        return f.get("why", {}).get(key, "not measured")
    if key.endswith("_s"):
        return f"{value:.{DECIMALS}f} s"
    return str(value)


def table(f: dict) -> pd.DataFrame:
    """Every figure as a row (figure, value): the page's table and the CLI's."""
    return pd.DataFrame([{"figure": LABELS[k], "value": text(f, k)} for k in LABELS])


def events(f: dict) -> list[tuple[float, str]]:
    """The chart's marks: each instant that happened, at its rounded value, labelled with that same value."""
    return [(f[k], f"{LABELS[k].lower()} {text(f, k)}") for k in INSTANTS if f.get(k) is not None]


def sentence(f: dict) -> str:
    """The run in one paragraph, from the same rounded figures."""
    region = f["failed_region"] or "the region"
    if f["outage_start_s"] is None:
        return f"No outage: {text(f, 'outage_start_s')}."
    parts = [f"{region} went down at {text(f, 'outage_start_s')}"]
    if f["moved_away_s"] is not None:
        parts.append(
            f"requests moved to {f['fallback_region'] or 'another region'} at {text(f, 'moved_away_s')} "
            f"(failover {text(f, 'failover_s')}, {f['not_served_during_outage']} not served meanwhile)"
        )
    else:
        parts.append(f"requests did not move: {text(f, 'moved_away_s')}")
    back = ""
    if f["recovery_s"] is not None:
        back = f"it came back at {text(f, 'recovery_s')}"
    if f["moved_back_s"] is not None:
        back += (" and " if back else "it ") + f"served again at {text(f, 'moved_back_s')}"
        back += f" (failback {text(f, 'failback_s')})" if f["failback_s"] is not None else ""
    elif "moved_back_s" in f["why"]:
        back += (" but " if back else "") + f"did not serve again: {f['why']['moved_back_s']}"
    if back:
        parts.append(back)
    return "; ".join(parts) + "."

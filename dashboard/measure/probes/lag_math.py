"""The arithmetic of the lag and conflict probes (pure, unit-tested): when a server acted on a request, the lag
and its resolution from a write and the polls that followed it, the poll schedule, and the per-pair summary.

Method
------
Every request is timed on the monotonic clock: sent at ``t0`` (after the connection setup, when one was needed),
answered at ``t1``, with the function's own time ``app`` from ``Server-Timing``. The time outside the function,
``t1 - t0 - app``, is network (there and back); assuming the two legs are equal, the server acted at

    moment = t1 - (t1 - t0 - app) / 2          (``server_moment``)

The write's moment ``W`` estimates when the value was committed in the source. Each poll of a destination gets
its moment ``R_k`` the same way. With ``H`` the earliest moment of a read that returned the value and ``M`` the
latest moment of a read before ``H`` that did not,

    lag        = H - W          (first seen minus write acknowledgement, both corrected by their one-way times)
    resolution = H - M          (M replaced by W when the very first poll already saw it)

and the true lag lies in ``[lag - resolution, lag]``, give or take the one-way estimation error: at most half
the asymmetry between the outbound and return legs of the write and of the read (zero on a symmetric path such
as the local cloud's, a few ms between a client and an AWS region). Negative estimates (clock noise when the value
is visible at once) are clamped to 0.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dashboard.measure.timed_client import TimedResult


def server_moment(
    t_sent: float, t_received: float, app_ms: float = math.nan, connect_ms: float = 0.0
) -> float:
    """Estimated moment (same clock as the arguments, seconds) at which the server acted on a request."""
    start = t_sent + (connect_ms or 0.0) / 1000.0
    app_s = app_ms / 1000.0 if app_ms is not None and math.isfinite(app_ms) else 0.0
    outside = max(0.0, (t_received - start) - app_s)
    return t_received - outside / 2.0


def moment_of(result: TimedResult) -> float:
    row = result.row
    return server_moment(result.t_sent, result.t_received, row["server_app_ms"], row["connect_ms"])


def lag_from_polls(write_moment: float, polls) -> dict:
    """``polls``: iterable of (moment, seen: bool) -> {lag_ms, resolution_ms, lag_low_ms, seen}.

    Errors must be left out of ``polls`` (an error says nothing about visibility)."""
    polls = sorted(polls)
    hits = [moment for moment, seen in polls if seen]
    if not hits:
        misses = [moment for moment, _ in polls]
        low = (max(misses) - write_moment) * 1000.0 if misses else 0.0
        return {"seen": False, "lag_ms": math.nan, "resolution_ms": math.nan, "lag_low_ms": max(0.0, low)}
    first_seen = min(hits)
    misses_before = [moment for moment, seen in polls if not seen and moment < first_seen]
    last_miss = max(misses_before) if misses_before else write_moment
    lag = max(0.0, (first_seen - write_moment) * 1000.0)
    low = max(0.0, (last_miss - write_moment) * 1000.0)
    return {"seen": True, "lag_ms": lag, "resolution_ms": max(0.0, lag - low), "lag_low_ms": low}


def poll_schedule(
    min_interval_ms: float, max_interval_ms: float, backoff: float, horizon_s: float, dense=None
) -> list[float]:
    """Offsets (s, from the acknowledgement) at which polls are launched: 0, then intervals growing by ``backoff``
    up to ``max_interval_ms``; inside ``dense = (start_s, end_s)`` (where earlier probes first saw their value)
    every ``min_interval_ms``, landing exactly on ``start_s``; after it, growing again from the minimum."""
    low, high = dense if dense else (math.inf, math.inf)
    minimum, maximum = min_interval_ms / 1000.0, max_interval_ms / 1000.0
    offsets, t, grow = [], 0.0, minimum
    while t <= horizon_s:
        offsets.append(t)
        if low <= t < high:
            step = grow = minimum
        else:
            step = grow
            grow = min(grow * backoff, maximum)
            if t < low:
                step = min(step, max(low - t, minimum))
        t += step
    return offsets


def dense_window(first_hit_offsets, margin_s: float = 0.02, spread: float = 0.25):
    """Where to poll densely, from the launch offsets of earlier probes' first sightings (None before any)."""
    offsets = [o for o in first_hit_offsets if o is not None and math.isfinite(o)]
    if not offsets:
        return None
    return max(0.0, min(offsets) * (1 - spread) - margin_s), max(offsets) * (1 + spread) + margin_s


def lag_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per source -> destination: probes, seen, timeouts, write_failed, lag mean/p50/p90/p99/max, median resolution."""
    columns = [
        "probes",
        "seen",
        "timeouts",
        "write_failed",
        "mean",
        "p50",
        "p90",
        "p99",
        "max",
        "resolution_p50",
    ]
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=["source", "destination", *columns]).set_index(["source", "destination"])
    rows = []
    for (source, destination), part in df.groupby(["source", "destination"], sort=False):
        lags = part.loc[part["status"] == "seen", "lag_ms"].to_numpy(dtype="float64")
        figures = dict.fromkeys(("mean", "p50", "p90", "p99", "max"), math.nan)
        if lags.size:
            p50, p90, p99 = np.percentile(lags, [50, 90, 99])
            figures = {
                "mean": float(lags.mean()),
                "p50": float(p50),
                "p90": float(p90),
                "p99": float(p99),
                "max": float(lags.max()),
            }
        resolution = part.loc[part["status"] == "seen", "resolution_ms"].to_numpy(dtype="float64")
        rows.append(
            {
                "source": source,
                "destination": destination,
                "probes": int(len(part)),
                "seen": int((part["status"] == "seen").sum()),
                "timeouts": int((part["status"] == "timeout").sum()),
                "write_failed": int((part["status"] == "write_failed").sum()),
                **figures,
                "resolution_p50": float(np.median(resolution)) if resolution.size else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=["source", "destination", *columns]).set_index(
        ["source", "destination"]
    )

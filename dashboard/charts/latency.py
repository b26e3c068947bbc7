"""Latency charts (the Latency page): distribution, ECDF, histogram, every sample over time, and where the
time goes. Large runs stay fast: distributions are drawn from precomputed quantiles and ECDFs from a bounded
number of points; only the time series draws every sample, with WebGL (`Scattergl`) once a run is large."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import ALERT_RED, DYNAMODB_ORANGE, FUNCTION_BLUE, NETWORK_GREY, region_color
from dashboard.charts.style import (
    FONT_SIZE,
    LATENCY_AXIS,
    LEGEND_ABOVE,
    add_reference_points,
    elapsed_seconds,
    empty_figure,
    nan0,
    styled,
    successful,
    targets_in_order,
)

# Above this many points a scatter switches to WebGL; SVG gets slow past a few thousand markers.
WEBGL_THRESHOLD = 5_000
# ECDFs are drawn from at most this many quantiles per target: the curve looks the same, the page stays light.
ECDF_POINTS = 500


def latency_distribution(
    samples: pd.DataFrame, floors: Mapping[str, float] | None = None, title: str = "Latency per target"
) -> go.Figure:
    """A box per target, side by side, from precomputed quantiles (whiskers at p1 and p99), plus the physical floor.

    Quantiles are computed here rather than shipping every sample to the browser: a 100,000-sample run then costs
    a few hundred bytes per target instead of megabytes.
    """
    ok = successful(samples)
    if ok.empty:
        return empty_figure(title, "No successful samples yet")
    fig = go.Figure()
    for target in targets_in_order(ok):
        values = ok.loc[ok["target"].astype(str) == target, "latency_ms"].to_numpy(dtype=float)
        p1, q1, median, q3, p99 = np.percentile(values, [1, 25, 50, 75, 99])
        fig.add_trace(
            go.Box(
                name=target,
                x=[target],
                q1=[q1],
                median=[median],
                q3=[q3],
                lowerfence=[p1],
                upperfence=[p99],
                mean=[float(values.mean())],
                marker_color=region_color(target),
                line_width=2.5,
                showlegend=False,
                hovertemplate=f"{target}<br>n={len(values)}<br>p1 %{{lowerfence:.1f}} ms<br>p25 %{{q1:.1f}} ms"
                f"<br>p50 %{{median:.1f}} ms<br>p75 %{{q3:.1f}} ms<br>p99 %{{upperfence:.1f}} ms"
                "<extra></extra>",
            )
        )
    add_reference_points(
        fig,
        targets_in_order(ok),
        floors,
        "physical floor",
        {"symbol": "line-ew-open", "size": 60, "color": ALERT_RED, "line": {"width": 4, "color": ALERT_RED}},
    )
    fig.update_layout(legend=LEGEND_ABOVE)
    return styled(fig, title, x_title="target", y_title=LATENCY_AXIS)


def latency_ecdf(samples: pd.DataFrame, title: str = "Latency ECDF") -> go.Figure:
    """Share of requests at or below each latency, one line per target, from at most ECDF_POINTS quantiles."""
    ok = successful(samples)
    if ok.empty:
        return empty_figure(title, "No successful samples yet")
    fig = go.Figure()
    for target in targets_in_order(ok):
        values = np.sort(ok.loc[ok["target"].astype(str) == target, "latency_ms"].to_numpy(dtype=float))
        if len(values) > ECDF_POINTS:
            shares = np.linspace(0.0, 1.0, ECDF_POINTS)
            xs = np.quantile(values, shares)
        else:
            xs = values
            shares = np.arange(1, len(values) + 1) / len(values)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=shares * 100.0,
                mode="lines",
                name=target,
                line={"color": region_color(target), "width": 3},
                hovertemplate=f"{target}: %{{y:.0f}}% of requests ≤ %{{x:.1f}} ms<extra></extra>",
            )
        )
    return styled(fig, title, x_title=LATENCY_AXIS, y_title="requests at or below (%)")


def latency_histogram(samples: pd.DataFrame, bins: int = 60, title: str = "Latency histogram") -> go.Figure:
    """Overlaid histograms per target on shared bins, counted here (the browser receives bins, not samples)."""
    ok = successful(samples)
    if ok.empty:
        return empty_figure(title, "No successful samples yet")
    all_values = ok["latency_ms"].to_numpy(dtype=float)
    # Clip the shared range at p99.5 so one slow outlier does not squeeze every bar into the first bin.
    upper = float(np.percentile(all_values, 99.5))
    lower = float(all_values.min())
    if upper <= lower:
        upper = lower + 1.0
    edges = np.linspace(lower, upper, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure()
    for target in targets_in_order(ok):
        values = ok.loc[ok["target"].astype(str) == target, "latency_ms"].to_numpy(dtype=float)
        counts, _ = np.histogram(np.clip(values, lower, upper), bins=edges)
        fig.add_trace(
            go.Bar(
                x=centers,
                y=counts,
                width=float(edges[1] - edges[0]),
                name=target,
                opacity=0.6,
                marker_color=region_color(target),
                hovertemplate=f"{target}: %{{y}} requests near %{{x:.1f}} ms<extra></extra>",
            )
        )
    fig.update_layout(barmode="overlay", bargap=0)
    return styled(fig, title, x_title=LATENCY_AXIS, y_title="requests")


def latency_timeseries(samples: pd.DataFrame, title: str = "Latency over the run") -> go.Figure:
    """Every sample as a point (WebGL above WEBGL_THRESHOLD points); failed requests as red crosses at the top."""
    if samples.empty:
        return empty_figure(title, "No samples yet")
    # The engine's elapsed_s is on the monotonic clock: better than wall-clock timestamps when present.
    if "elapsed_s" in samples.columns and samples["elapsed_s"].notna().all():
        elapsed = samples["elapsed_s"].to_numpy(dtype=float)
    else:
        elapsed = elapsed_seconds(samples["timestamp"])
    frame = samples.assign(_elapsed=elapsed)
    ok = successful(frame)
    scatter = go.Scattergl if len(frame) > WEBGL_THRESHOLD else go.Scatter
    fig = go.Figure()
    marker_size = 4 if len(frame) > WEBGL_THRESHOLD else 7
    for target in targets_in_order(frame):
        part = ok[ok["target"].astype(str) == target]
        fig.add_trace(
            scatter(
                x=part["_elapsed"].to_numpy(dtype=float),
                y=part["latency_ms"].to_numpy(dtype=float),
                mode="markers",
                name=target,
                marker={"color": region_color(target), "size": marker_size},
                hovertemplate=f"{target}: %{{y:.1f}} ms at %{{x:.2f}} s<extra></extra>",
            )
        )
    failed = frame.drop(index=ok.index)
    if not failed.empty:
        top = float(ok["latency_ms"].max()) if not ok.empty else 1.0
        fig.add_trace(
            scatter(
                x=failed["_elapsed"].to_numpy(dtype=float),
                y=np.full(len(failed), top),
                mode="markers",
                name="failed",
                marker={"color": ALERT_RED, "symbol": "x", "size": 9},
                hovertemplate="failed at %{x:.2f} s<extra></extra>",
            )
        )
    return styled(fig, title, x_title="time since start of run (s)", y_title=LATENCY_AXIS)


def latency_breakdown(
    parts: pd.DataFrame, title: str = "Where the time goes (median per request)"
) -> go.Figure:
    """Stacked medians per target: network, function outside DynamoDB, DynamoDB.

    `parts` is the engine's `stats.breakdown(samples)`: index = target, columns network_ms, app_ms, db_ms,
    from the Server-Timing header the API returns (app = handler time, db = its DynamoDB call).
    """
    needed = {"network_ms", "app_ms", "db_ms"}
    if parts is None or parts.empty or not needed.issubset(parts.columns):
        return empty_figure(title, "No Server-Timing data yet")
    names = [str(t) for t in parts.index]
    fig = go.Figure()
    for column, name, color in [
        ("network_ms", "network", NETWORK_GREY),
        ("app_ms", "function", FUNCTION_BLUE),
        ("db_ms", "DynamoDB", DYNAMODB_ORANGE),
    ]:
        values = [nan0(v) for v in parts[column].to_numpy(dtype=float)]
        fig.add_trace(
            go.Bar(
                x=names,
                y=values,
                name=name,
                marker_color=color,
                text=[f"{v:.1f}" for v in values],
                textposition="inside",
                hovertemplate=f"{name}: %{{y:.1f}} ms<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    # A 1 ms segment on a 140 ms bar is a hairline: each bar also says its split in words, above it.
    for target, row in zip(names, parts.itertuples(index=False), strict=True):
        network, app, db = (nan0(getattr(row, c)) for c in ("network_ms", "app_ms", "db_ms"))
        fig.add_annotation(
            x=target,
            y=network + app + db,
            text=f"function {app:.1f} ms<br>DynamoDB "
            + (f"{db:.1f} ms" if row.db_ms == row.db_ms else "not reported"),
            showarrow=False,
            yshift=28,
            font={"size": FONT_SIZE - 4},
        )
    return styled(fig, title, x_title="target", y_title="median time (ms)")

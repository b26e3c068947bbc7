"""Replication charts (the Replication page and the tour): lag per pair, lag over time, and each region's value
until the regions agree after a conflict."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import ALERT_RED, EVENT_GREY, WHITE, region_color
from dashboard.charts.style import (
    FONT_SIZE,
    LEGEND_ABOVE,
    add_reference_points,
    elapsed_seconds,
    empty_figure,
    pair_label,
    styled,
)


def lag_distribution(
    lags: pd.DataFrame, reported: Mapping[str, float] | None = None, title: str = "Replication lag per pair"
) -> go.Figure:
    """A box per source→destination pair (colour of the destination), with ReplicationLatency beside it.

    `lags` has columns source, destination, lag_ms; `reported` maps a pair label ("a → b") to the
    ReplicationLatency the control API reports for it, drawn as a diamond.
    """
    measured = lags[lags["lag_ms"].notna()] if not lags.empty else lags
    if measured.empty:
        return empty_figure(title, "No replication measured yet")
    fig = go.Figure()
    labels = []
    for (source, destination), part in measured.groupby(["source", "destination"], sort=False):
        label = pair_label(str(source), str(destination))
        labels.append(label)
        values = part["lag_ms"].to_numpy(dtype=float)
        fig.add_trace(
            go.Box(
                y=values,
                x=[label] * len(values),
                name=label,
                marker_color=region_color(destination),
                boxpoints="all" if len(values) <= 2_000 else False,
                jitter=0.4,
                pointpos=0,
                showlegend=False,
                hovertemplate=f"{label}: %{{y:.1f}} ms<extra></extra>",
            )
        )
    if add_reference_points(
        fig,
        labels,
        reported,
        "ReplicationLatency (reported)",
        {"symbol": "diamond", "size": 16, "color": ALERT_RED, "line": {"width": 1, "color": WHITE}},
    ):
        fig.update_layout(legend=LEGEND_ABOVE)
    return styled(fig, title, x_title="source → destination", y_title="replication lag (ms)")


def lag_timeseries(lags: pd.DataFrame, title: str = "Replication lag over time") -> go.Figure:
    """Each probe's lag against the time it was written, a line per pair (colour of the destination)."""
    measured = lags[lags["lag_ms"].notna()] if not lags.empty else lags
    if measured.empty:
        return empty_figure(title, "No replication measured yet")
    time_column = next((c for c in ("elapsed_s", "timestamp") if c in measured.columns), None)
    fig = go.Figure()
    if time_column == "elapsed_s":
        elapsed = measured["elapsed_s"].to_numpy(dtype=float)
        elapsed = elapsed - np.nanmin(elapsed)
    elif time_column:
        elapsed = elapsed_seconds(measured[time_column])
    else:
        elapsed = np.arange(len(measured), dtype=float)
    frame = measured.assign(_elapsed=elapsed)
    for (source, destination), part in frame.groupby(["source", "destination"], sort=False):
        label = pair_label(str(source), str(destination))
        fig.add_trace(
            go.Scatter(
                x=part["_elapsed"].to_numpy(dtype=float),
                y=part["lag_ms"].to_numpy(dtype=float),
                mode="lines+markers",
                name=label,
                line={"color": region_color(destination), "width": 2},
                marker={"size": 7},
                hovertemplate=f"{label}: %{{y:.1f}} ms at %{{x:.1f}} s<extra></extra>",
            )
        )
    x_title = "time since first probe (s)" if time_column else "probe"
    return styled(fig, title, x_title=x_title, y_title="replication lag (ms)")


def value_timeline(
    observations: pd.DataFrame, title: str = "Each region's value over time", agreed_ms: float | None = None
) -> go.Figure:
    """Conflict demo: what each region answered (`since_writes_ms`, `region`, `value`), until they agree.

    Values are categories on the y axis; a region's line stepping onto another value is replication
    delivering the write that won. `agreed_ms` (the trial's converge_ms, same clock) is marked with its value.
    """
    if observations.empty:
        return empty_figure(title, "No observations yet")
    values = [str(v) for v in pd.unique(observations["value"].astype(str))]
    fig = go.Figure()
    for region, part in observations.groupby("region", sort=False):
        fig.add_trace(
            go.Scatter(
                x=part["since_writes_ms"].to_numpy(dtype=float),
                y=part["value"].astype(str).tolist(),
                mode="lines+markers",
                name=str(region),
                line={"shape": "hv", "color": region_color(region), "width": 3},
                marker={"size": 9},
                hovertemplate=f"{region}: %{{y}} at %{{x:.0f}} ms after the writes<extra></extra>",
            )
        )
    if agreed_ms is not None:
        fig.add_vline(
            x=agreed_ms,
            line_dash="dash",
            line_color=EVENT_GREY,
            annotation_text=f"agreed {agreed_ms:.0f} ms",
            annotation_font_size=FONT_SIZE - 4,
        )
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=values, automargin=True)
    fig.update_xaxes(rangemode="tozero")
    fig.update_layout(legend=LEGEND_ABOVE)
    return styled(fig, title, x_title="time since the last write committed (ms)", y_title="")

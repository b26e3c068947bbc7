"""The AWS endpoints page: how long each phase of an HTTPS request to each region's public endpoint took."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import ALERT_RED, PHASE_COLORS, WHITE
from dashboard.charts.style import LEGEND_ABOVE, add_reference_points, empty_figure, styled

# What the chart shows of a ping run: the steps of a new connection, and what a kept-alive client waits per request.
PHASES = list(PHASE_COLORS)


def ping_phases(
    figures: pd.DataFrame,
    model: Mapping[str, float] | None = None,
    title: str = "AWS endpoints: time per phase",
) -> go.Figure:
    """Per region, a bar per phase at its p50 with a whisker up to its p99 (p90 in the hover), and the built-in
    model's median round trip from the declared location as a red diamond.

    ``figures``: ``dashboard.measure.ping_runs.percentiles_frame`` (columns region, connection, phase, p50, p90,
    p99); ``model``: region -> ms.
    """
    if figures.empty:
        return empty_figure(title, "No endpoint timed yet")
    labelled = figures.assign(label=figures["connection"] + ": " + figures["phase"])
    regions = [str(r) for r in pd.unique(labelled["region"])]
    fig = go.Figure()
    for label in PHASES:
        part = labelled[labelled["label"] == label].set_index("region").reindex(regions)
        if part["p50"].isna().all():
            continue
        p50, p90, p99 = (part[name].to_numpy(dtype=float) for name in ("p50", "p90", "p99"))
        fig.add_trace(
            go.Bar(
                x=regions,
                y=p50,
                name=label,
                marker_color=PHASE_COLORS[label],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": p99 - p50,
                    "arrayminus": np.zeros(len(p50)),
                },
                customdata=np.column_stack([p90, p99]),
                hovertemplate=f"%{{x}} {label}: p50 %{{y:.1f}} · p90 %{{customdata[0]:.1f}} · "
                "p99 %{customdata[1]:.1f} ms<extra></extra>",
            )
        )
    add_reference_points(
        fig,
        regions,
        dict(model or {}),
        "built-in model p50",
        {"symbol": "diamond", "size": 14, "color": ALERT_RED, "line": {"width": 1, "color": WHITE}},
    )
    fig.update_layout(barmode="group", legend=LEGEND_ABOVE)
    return styled(fig, title, x_title="region (bar: p50, whisker: p99)", y_title="time (ms)")

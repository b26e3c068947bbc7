"""A region x region heat map in colour bands (as cloudping draws it): each cell's colour says its band, its text
the value; bands instead of a continuous scale, so "under 50 ms" reads the same on every slide."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import MATRIX_BANDS
from dashboard.charts.style import FONT_SIZE, empty_figure, styled

RTT_LIMITS = (50.0, 100.0, 150.0, 200.0)  # ms: the band edges for round trips
LAG_LIMITS = (250.0, 500.0, 750.0, 1000.0)  # ms: for replication lag ("typically within a second")


def band_labels(limits) -> list[str]:
    edges = [f"{x:g}" for x in limits]
    return [
        f"< {edges[0]} ms",
        *[f"{a}-{b} ms" for a, b in zip(edges, edges[1:], strict=False)],
        f">= {edges[-1]} ms",
    ]


def region_matrix(matrix: pd.DataFrame, title: str, limits=RTT_LIMITS) -> go.Figure:
    """``matrix``: rows = from, columns = to, values in ms (NaN: no figure, left blank)."""
    values = matrix.to_numpy(dtype="float64")
    if matrix.empty or np.isnan(values).all():
        return empty_figure(title, "No figure for any pair")
    bands = np.where(np.isnan(values), np.nan, np.searchsorted(np.asarray(limits), values, side="right"))
    count = len(limits) + 1
    colorscale = []
    for index, color in enumerate(MATRIX_BANDS[:count]):
        colorscale += [[index / count, color], [(index + 1) / count, color]]
    text = [["" if np.isnan(v) else f"{v:.0f}" for v in row] for row in values]
    fig = go.Figure(
        go.Heatmap(
            z=bands, x=list(matrix.columns), y=list(matrix.index), zmin=-0.5, zmax=count - 0.5,
            colorscale=colorscale, text=text, texttemplate="%{text}", textfont={"size": FONT_SIZE},
            customdata=values, hovertemplate="%{y} → %{x}: %{customdata:.1f} ms<extra></extra>",
            colorbar={"tickvals": list(range(count)), "ticktext": band_labels(limits), "title": "ms"},
            xgap=2, ygap=2,
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    return styled(fig, title, x_title="to", y_title="from", height=max(420, 140 + 60 * len(matrix.index)))

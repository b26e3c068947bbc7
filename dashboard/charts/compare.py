"""Runs side by side (the Compare page), from ``dashboard.measure.runs.compare``'s figures: the browser receives
at most a few hundred quantiles per run and target, never the samples, so two million-sample runs draw as fast
as two small ones.

* ``compare_ecdf(ecdf)``: overlaid ECDFs, the target's colour, one dash per run (A solid, B dashed…);
* ``compare_boxes(boxes)``: a box per target and run (whiskers p1 and p99), runs side by side in one colour each.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import region_color, run_color, run_dash
from dashboard.charts.style import LATENCY_AXIS, LEGEND_ABOVE, empty_figure, styled

VALUE_AXIS = "value (ms)"


def _letters(frame: pd.DataFrame) -> list[str]:
    return [str(x) for x in pd.unique(frame["run"])]


def compare_ecdf(
    ecdf: pd.DataFrame, title: str = "ECDF, runs overlaid", axis: str = LATENCY_AXIS
) -> go.Figure:
    if ecdf is None or ecdf.empty:
        return empty_figure(title, "No successful values to draw")
    fig = go.Figure()
    for index, letter in enumerate(_letters(ecdf)):
        for target, part in ecdf[ecdf["run"] == letter].groupby("target", sort=False):
            fig.add_trace(
                go.Scatter(
                    x=part["value_ms"].to_numpy(dtype=float),
                    y=part["fraction"].to_numpy(dtype=float) * 100.0,
                    mode="lines",
                    name=f"{letter} · {target}",
                    line={"color": region_color(target), "width": 3, "dash": run_dash(index)},
                    hovertemplate=f"{letter} · {target}: %{{y:.0f}}% ≤ %{{x:.1f}} ms<extra></extra>",
                )
            )
    fig = styled(fig, title, x_title=axis, y_title="at or below (%)", height=520)
    # One entry per run and target: below the plot, where a long legend cannot cover the title.
    fig.update_layout(legend={"orientation": "h", "y": -0.2, "x": 0, "yanchor": "top"})
    return fig


def compare_boxes(
    boxes: pd.DataFrame, title: str = "Per target, runs side by side", axis: str = LATENCY_AXIS
) -> go.Figure:
    if boxes is None or boxes.empty:
        return empty_figure(title, "No successful values to draw")
    fig = go.Figure()
    for index, letter in enumerate(_letters(boxes)):
        part = boxes[boxes["run"] == letter]
        fig.add_trace(
            go.Box(
                name=f"run {letter}",
                x=part["target"].astype(str).tolist(),
                q1=part["p25"].tolist(),
                median=part["p50"].tolist(),
                q3=part["p75"].tolist(),
                lowerfence=part["p1"].tolist(),
                upperfence=part["p99"].tolist(),
                mean=part["mean"].tolist(),
                marker_color=run_color(index),
                line_width=2.5,
                hovertemplate=f"run {letter} · %{{x}}<br>p1 %{{lowerfence:.1f}}<br>p25 %{{q1:.1f}}"
                "<br>p50 %{median:.1f}<br>p75 %{q3:.1f}<br>p99 %{upperfence:.1f} ms<extra></extra>",
            )
        )
    fig.update_layout(boxmode="group", legend=LEGEND_ABOVE)
    return styled(fig, title, x_title="target", y_title=axis)

"""Charts of the Consistency page: MREC next to MRSC, one colour per side (``palette.SIDE_COLORS``), per region.

Each takes the long form of the engine's figures (``consistency_figures.long_form``: side, region, figure, value) or
the per-side outcome counts, and draws them as they are: no figure is recomputed here."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import OUTCOME_COLORS, side_color
from dashboard.charts.style import LATENCY_AXIS, empty_figure, styled

# Under the plot: these charts sit two to a row, too narrow for a legend beside the title.
LEGEND_BELOW = {"orientation": "h", "y": -0.3, "x": 0.5, "xanchor": "center", "yanchor": "top"}

LABELS = {
    "write_p50_ms": "p50",
    "write_p99_ms": "p99",
    "eventual_stale_pct": "eventual reads",
    "strong_stale_pct": "strong reads",
    "write_avail_pct": "writes",
    "strong_avail_pct": "strong reads",
    "eventual_avail_pct": "eventual reads",
}
# The second figure of a pair is drawn hatched, so that two figures of one side stay apart without more colours.
PATTERNS = ["", "/", "."]


def _grouped(long: pd.DataFrame, figures: tuple[str, ...], title: str, y_title: str, text) -> go.Figure:
    fig = go.Figure()
    for side, part in long.groupby("side", sort=False):
        for index, figure in enumerate(figures):
            rows = part[part["figure"] == figure]
            if rows.empty:
                continue
            values = rows["value"].to_numpy(dtype=float)
            fig.add_trace(
                go.Bar(
                    x=rows["region"].astype(str).tolist(),
                    y=values,
                    name=f"{side} {LABELS.get(figure, figure)}",
                    marker={"color": side_color(side), "pattern": {"shape": PATTERNS[index % len(PATTERNS)]}},
                    text=[text(v) for v in values],
                    textposition="outside",
                    hovertemplate=f"{side} {LABELS.get(figure, figure)} %{{x}}: %{{y}}<extra></extra>",
                )
            )
    styled(fig, title, x_title="region", y_title=y_title, height=480)
    return fig.update_layout(barmode="group", legend=LEGEND_BELOW, margin={"b": 140})


def write_latency(long: pd.DataFrame, title: str = "Write latency") -> go.Figure:
    """p50 and p99 of the acknowledged writes, per side and region (rows of figure write_p50_ms / write_p99_ms)."""
    figures = ("write_p50_ms", "write_p99_ms")
    if long.empty or not long["figure"].isin(figures).any():
        return empty_figure(title, "No write was acknowledged")
    return _grouped(long, figures, title, LATENCY_AXIS, lambda v: f"{v:.0f} ms")


def stale_reads(long: pd.DataFrame, title: str = "Stale first reads elsewhere") -> go.Figure:
    """Per cent of first reads elsewhere that were stale, eventual and strong, per side and reading region."""
    figures = ("eventual_stale_pct", "strong_stale_pct")
    if long.empty or not long["figure"].isin(figures).any():
        return empty_figure(title, "No read was checked")
    fig = _grouped(long, figures, title, "stale reads (%)", lambda v: f"{v:.0f}%")
    return fig.update_yaxes(range=[0, 115])


def availability(long: pd.DataFrame, title: str = "Answered while cut off") -> go.Figure:
    """Per cent of writes, strong reads and eventual reads answered 2xx during the isolation, per side and region."""
    figures = ("write_avail_pct", "strong_avail_pct", "eventual_avail_pct")
    if long.empty or not long["figure"].isin(figures).any():
        return empty_figure(title, "No isolation was run")
    # Only what fell short is labelled: six "100%" per region would bury the one "0%" that matters.
    fig = _grouped(long, figures, title, "answered (%)", lambda v: "" if v >= 100 else f"{v:.0f}%")
    return fig.update_yaxes(range=[0, 115])


def conflict_outcomes(counts: pd.DataFrame, title: str = "Conflicting writes") -> go.Figure:
    """Stacked bars, one per side: how many conflicting writes were kept, superseded, lost, rejected or failed
    (``counts``: side, outcome, count)."""
    if counts.empty or not counts["count"].sum():
        return empty_figure(title, "No conflicting write was made")
    fig = go.Figure()
    for outcome, color in OUTCOME_COLORS.items():
        rows = counts[counts["outcome"] == outcome]
        if rows.empty or not rows["count"].sum():
            continue
        fig.add_trace(
            go.Bar(
                x=rows["side"].astype(str).tolist(),
                y=rows["count"].to_numpy(dtype=int),
                name=outcome,
                marker_color=color,
                text=[str(v) if v else "" for v in rows["count"]],
                textposition="inside",
                hovertemplate=f"%{{x}}: %{{y}} {outcome}<extra></extra>",
            )
        )
    styled(fig, title, x_title="global table", y_title="writes", height=480)
    return fig.update_layout(barmode="stack", legend=LEGEND_BELOW, margin={"b": 140})

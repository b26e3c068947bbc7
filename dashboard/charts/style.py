"""What every chart shares: projector styling (big fonts, a title, axis titles), the empty figure, and the
helpers that pick the samples to draw and the reference markers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

FONT_SIZE = 18
TITLE_SIZE = 24
LATENCY_AXIS = "latency (ms)"
LEGEND_ABOVE = {"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"}


def styled(
    fig: go.Figure, title: str, *, x_title: str | None = None, y_title: str | None = None, height: int = 460
) -> go.Figure:
    """Projector styling shared by every figure: big fonts, white background, a title, axis titles."""
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "font": {"size": TITLE_SIZE}},
        font={"size": FONT_SIZE},
        height=height,
        margin={"l": 70, "r": 30, "t": 80, "b": 60},
        legend={"font": {"size": FONT_SIZE - 2}},
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return ms_axes(fig)


def _is_ms(axis) -> bool:
    title = axis.title.text if axis.title is not None else None
    return bool(title) and "ms)" in title


def ms_axes(fig: go.Figure, log: bool = False) -> go.Figure:
    """Honest time axes: every axis in milliseconds starts at zero (a zoomed axis makes 1 ms of jitter look like a
    cliff), or, with ``log``, is logarithmic (the page's "log scale" toggle: tails and medians on one chart)."""
    for update, axes in ((fig.update_xaxes, fig.layout.xaxis), (fig.update_yaxes, fig.layout.yaxis)):
        if _is_ms(axes):
            update(type="log", rangemode="normal") if log else update(type="linear", rangemode="tozero")
    return fig


def log_scale(fig: go.Figure, log: bool = True) -> go.Figure:
    """The log-scale toggle of a page, for any chart of this package (only its ms axes change)."""
    return ms_axes(fig, log)


def empty_figure(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, font={"size": FONT_SIZE}, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return styled(fig, title, height=300)


def successful(samples: pd.DataFrame) -> pd.DataFrame:
    """Samples that measured an answer, as the engine's `ok` column says (2xx, or a 404 on a read).

    Frames without `ok` (hand-made ones) fall back to: no error text, a latency, and a status below 500.
    """
    if samples.empty:
        return samples
    ok = samples["latency_ms"].notna()
    if "ok" in samples.columns:
        return samples[ok & samples["ok"].fillna(False).astype(bool)]
    if "error" in samples.columns:
        error = samples["error"]
        ok &= error.isna() | (error.astype(str).str.len() == 0)
    if "status" in samples.columns:
        status = pd.to_numeric(samples["status"], errors="coerce")
        ok &= status.notna() & (status < 500)
    return samples[ok]


def targets_in_order(samples: pd.DataFrame) -> list[str]:
    return [str(t) for t in pd.unique(samples["target"])]


def add_reference_points(fig: go.Figure, categories, values: dict | None, name: str, marker: dict) -> bool:
    """One red marker per category that has a reference value (the physical floor, the reported lag) drawn over
    its measured distribution. Returns whether any was drawn."""
    shown = [c for c in categories if (values or {}).get(c) is not None]
    if shown:
        fig.add_trace(
            go.Scatter(
                x=shown,
                y=[values[c] for c in shown],
                mode="markers",
                name=name,
                marker=marker,
                hovertemplate=f"{name} %{{y:.1f}} ms<extra></extra>",
            )
        )
    return bool(shown)


def elapsed_seconds(timestamps: pd.Series) -> np.ndarray:
    """Seconds since the first sample; numeric timestamps are epoch seconds, others are parsed as datetimes.

    The time axis is drawn as plain floats: plotly sends those as compact binary arrays, where datetimes would
    become one ISO string per sample.
    """
    if pd.api.types.is_numeric_dtype(timestamps):
        values = timestamps.to_numpy(dtype=float)
    else:
        values = pd.to_datetime(timestamps, utc=True).astype("int64").to_numpy() / 1e9
    if len(values) == 0:
        return values
    return values - np.nanmin(values)


def nan0(value: float) -> float:
    return 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def pair_label(source: str, destination: str) -> str:
    return f"{source} → {destination}"

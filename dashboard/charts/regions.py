"""Charts of where requests were served (the Playground, Resilience and tour pages): latency per region, reads
through the global endpoint, and the failover timeline."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import ALERT_RED, EVENT_GREY, region_color
from dashboard.charts.style import FONT_SIZE, LATENCY_AXIS, LEGEND_ABOVE, empty_figure, styled


def region_latency_bars(rows: pd.DataFrame, title: str = "Read everywhere: latency per region") -> go.Figure:
    """One bar per region (rows with columns `region` and `latency_ms`), coloured like everywhere else."""
    if rows.empty:
        return empty_figure(title, "Nothing read yet")
    regions = rows["region"].astype(str).tolist()
    fig = go.Figure(
        go.Bar(
            x=regions,
            y=rows["latency_ms"].to_numpy(dtype=float),
            marker_color=[region_color(r) for r in regions],
            text=[f"{v:.0f} ms" for v in rows["latency_ms"].to_numpy(dtype=float)],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1f} ms<extra></extra>",
        )
    )
    return styled(fig, title, x_title="region", y_title=LATENCY_AXIS, height=380)


def geo_reads(reads: pd.DataFrame, title: str = "Reads through the global endpoint") -> go.Figure:
    """Each read through the geo-routed endpoint, grouped by client location, coloured by the region that served it.

    `reads` has columns `client location`, `served by`, `latency_ms`.
    """
    if reads.empty:
        return empty_figure(title, "No reads yet")
    fig = go.Figure()
    for region, part in reads.groupby("served by", sort=False):
        region = str(region) or "unknown"
        fig.add_trace(
            go.Box(
                x=part["client location"].astype(str).tolist(),
                y=part["latency_ms"].to_numpy(dtype=float),
                name=f"served by {region}",
                marker_color=region_color(region),
                boxpoints="all",
                pointpos=0,
                hovertemplate=f"served by {region}: %{{y:.1f}} ms<extra></extra>",
            )
        )
    fig.update_layout(boxmode="group")
    return styled(fig, title, x_title="client location", y_title=LATENCY_AXIS)


def _reasons(failed: pd.DataFrame) -> list[str]:
    """Why each request was not served, for the hover: its error, else its status and the region that answered."""
    n = len(failed)
    errors = failed["error"].fillna("").astype(str) if "error" in failed else pd.Series([""] * n)
    statuses = failed["status"] if "status" in failed else pd.Series(["?"] * n)
    regions = failed["served_region"].fillna("").astype(str)
    return [
        e or f"HTTP {s} from {r or 'an unknown region'} (not the expected region)"
        for e, s, r in zip(errors, statuses, regions, strict=True)
    ]


def failover_timeline(
    requests: pd.DataFrame,
    events: Iterable[tuple[float, str]] = (),
    title: str = "Failover: the region that served each request",
) -> go.Figure:
    """Failover demo: each request through the geo-routed endpoint, at the moment its answer arrived.

    `requests` has `at_s` (else `elapsed_s`), `served_region`, and `served` (else `ok`): served answers sit on the
    row of their region; the others on a 'not served' row in red. `events` are (seconds, label) marks such as
    the failover figures' "outage start 2.0 s" (``failover_figures.events``), drawn at exactly those values.
    """
    if requests.empty:
        return empty_figure(title, "No requests yet")
    fig = go.Figure()
    x_column = "at_s" if "at_s" in requests.columns else "elapsed_s"
    good = requests["served" if "served" in requests.columns else "ok"].astype(bool)
    ok, failed = requests[good], requests[~good]
    for region, part in ok.groupby("served_region", sort=False):
        fig.add_trace(
            go.Scatter(
                x=part[x_column].to_numpy(dtype=float),
                y=[str(region)] * len(part),
                mode="markers",
                name=str(region),
                marker={"color": region_color(region), "size": 10},
                hovertemplate=f"served by {region}, answered at %{{x:.2f}} s<extra></extra>",
            )
        )
    if not failed.empty:
        reasons = _reasons(failed)
        fig.add_trace(
            go.Scatter(
                x=failed[x_column].to_numpy(dtype=float),
                y=["not served"] * len(failed),
                mode="markers",
                name="not served",
                marker={"color": ALERT_RED, "symbol": "x", "size": 11},
                customdata=reasons,
                hovertemplate="not served at %{x:.2f} s: %{customdata}<extra></extra>",
            )
        )
    for index, (at, label) in enumerate(events):
        # Marks close together (outage start and moved away are ~2 s apart): their labels take turns in two rows.
        fig.add_vline(
            x=at,
            line_dash="dash",
            line_color=EVENT_GREY,
            annotation_text=label,
            annotation_font_size=FONT_SIZE - 4,
            annotation_position="top right",
            annotation_yshift=-26 * (index % 2),
        )
    fig.update_yaxes(type="category", automargin=True)
    fig.update_xaxes(rangemode="tozero")
    fig.update_layout(legend=LEGEND_ABOVE)
    return styled(fig, title, x_title="time since the run started (s)", y_title="")

"""Chart builders: each takes measurements (a DataFrame or plain values) and returns a plotly figure.

Nothing here measures or talks to the network; the engine produces the numbers, these functions draw them.
Conventions, so that every chart reads the same on a projector:
- one colour per region, the same in every chart (`region_color`);
- every figure has a title, and latency axes say "ms";
- large runs stay fast: distributions are drawn from precomputed quantiles and ECDFs from a bounded number of
  points, so the browser receives kilobytes, not the raw samples; only the time series draws every sample,
  with WebGL (`Scattergl`) once a run is large.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# Fixed colours for the regions a demo is likely to use, so that us-west-2 is the same blue in every chart,
# every session and every screenshot. Okabe-Ito and Tableau colours: distinguishable for colour-blind viewers
# and on washed-out projectors.
_FIXED_COLORS = {
    "us-west-2": "#0072B2",
    "eu-central-1": "#E69F00",
    "ap-northeast-1": "#009E73",
    "us-east-1": "#CC79A7",
    "eu-west-1": "#D55E00",
    "ap-southeast-2": "#56B4E9",
    "sa-east-1": "#8C564B",
    "ap-south-1": "#9467BD",
    "us-east-2": "#BCBD22",
    "eu-west-2": "#17BECF",
    "global": "#333333",
}
# Regions not listed above get a colour from this palette, chosen by a stable hash of the name.
_FALLBACK_PALETTE = ["#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F"]

FONT_SIZE = 18
TITLE_SIZE = 24
LATENCY_AXIS = "latency (ms)"
_LEGEND_ABOVE = {"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"}
# Above this many points a scatter switches to WebGL; SVG gets slow past a few thousand markers.
WEBGL_THRESHOLD = 5_000
# ECDFs are drawn from at most this many quantiles per target: the curve looks the same, the page stays light.
ECDF_POINTS = 500


def region_color(name: str) -> str:
    """The colour of a region (or of the geo-routed 'global' target) in every chart."""
    name = str(name)
    if name in _FIXED_COLORS:
        return _FIXED_COLORS[name]
    digest = hashlib.sha1(name.encode("utf-8")).digest()
    return _FALLBACK_PALETTE[digest[0] % len(_FALLBACK_PALETTE)]


def color_map(names: Iterable[str]) -> dict[str, str]:
    return {str(name): region_color(name) for name in names}


def _styled(
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
    return fig


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, font={"size": FONT_SIZE}, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _styled(fig, title, height=300)


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


def _targets_in_order(samples: pd.DataFrame) -> list[str]:
    return [str(t) for t in pd.unique(samples["target"])]


def latency_distribution(
    samples: pd.DataFrame, floors: Mapping[str, float] | None = None, title: str = "Latency per target"
) -> go.Figure:
    """A box per target, side by side, from precomputed quantiles (whiskers at p1 and p99), plus the physical floor.

    Quantiles are computed here rather than shipping every sample to the browser: a 100,000-sample run then costs
    a few hundred bytes per target instead of megabytes.
    """
    ok = successful(samples)
    if ok.empty:
        return _empty(title, "No successful samples yet")
    fig = go.Figure()
    for target in _targets_in_order(ok):
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
    _add_reference_points(
        fig,
        _targets_in_order(ok),
        floors,
        "physical floor",
        {"symbol": "line-ew-open", "size": 60, "color": "#C00000", "line": {"width": 4, "color": "#C00000"}},
    )
    fig.update_layout(legend=_LEGEND_ABOVE)
    return _styled(fig, title, x_title="target", y_title=LATENCY_AXIS)


def _add_reference_points(fig: go.Figure, categories, values: dict | None, name: str, marker: dict) -> bool:
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


def latency_ecdf(samples: pd.DataFrame, title: str = "Latency ECDF") -> go.Figure:
    """Share of requests at or below each latency, one line per target, from at most ECDF_POINTS quantiles."""
    ok = successful(samples)
    if ok.empty:
        return _empty(title, "No successful samples yet")
    fig = go.Figure()
    for target in _targets_in_order(ok):
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
    return _styled(fig, title, x_title=LATENCY_AXIS, y_title="requests at or below (%)")


def latency_histogram(samples: pd.DataFrame, bins: int = 60, title: str = "Latency histogram") -> go.Figure:
    """Overlaid histograms per target on shared bins, counted here (the browser receives bins, not samples)."""
    ok = successful(samples)
    if ok.empty:
        return _empty(title, "No successful samples yet")
    all_values = ok["latency_ms"].to_numpy(dtype=float)
    # Clip the shared range at p99.5 so one slow outlier does not squeeze every bar into the first bin.
    upper = float(np.percentile(all_values, 99.5))
    lower = float(all_values.min())
    if upper <= lower:
        upper = lower + 1.0
    edges = np.linspace(lower, upper, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure()
    for target in _targets_in_order(ok):
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
    return _styled(fig, title, x_title=LATENCY_AXIS, y_title="requests")


def _elapsed_seconds(timestamps: pd.Series) -> np.ndarray:
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


def latency_timeseries(samples: pd.DataFrame, title: str = "Latency over the run") -> go.Figure:
    """Every sample as a point (WebGL above WEBGL_THRESHOLD points); failed requests as red crosses at the top."""
    if samples.empty:
        return _empty(title, "No samples yet")
    # The engine's elapsed_s is on the monotonic clock: better than wall-clock timestamps when present.
    if "elapsed_s" in samples.columns and samples["elapsed_s"].notna().all():
        elapsed = samples["elapsed_s"].to_numpy(dtype=float)
    else:
        elapsed = _elapsed_seconds(samples["timestamp"])
    frame = samples.assign(_elapsed=elapsed)
    ok = successful(frame)
    scatter = go.Scattergl if len(frame) > WEBGL_THRESHOLD else go.Scatter
    fig = go.Figure()
    marker_size = 4 if len(frame) > WEBGL_THRESHOLD else 7
    for target in _targets_in_order(frame):
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
                marker={"color": "#C00000", "symbol": "x", "size": 9},
                hovertemplate="failed at %{x:.2f} s<extra></extra>",
            )
        )
    return _styled(fig, title, x_title="time since start of run (s)", y_title=LATENCY_AXIS)


def latency_breakdown(
    parts: pd.DataFrame, title: str = "Where the time goes (median per request)"
) -> go.Figure:
    """Stacked medians per target: network, function outside DynamoDB, DynamoDB.

    `parts` is the engine's `stats.breakdown(samples)`: index = target, columns network_ms, app_ms, db_ms,
    from the Server-Timing header the API returns (app = handler time, db = its DynamoDB call).
    """
    needed = {"network_ms", "app_ms", "db_ms"}
    if parts is None or parts.empty or not needed.issubset(parts.columns):
        return _empty(title, "No Server-Timing data yet")
    names = [str(t) for t in parts.index]
    fig = go.Figure()
    for column, name, color in [
        ("network_ms", "network", "#7F7F7F"),
        ("app_ms", "function", "#4C72B0"),
        ("db_ms", "DynamoDB", "#DD8452"),
    ]:
        values = [_nan0(v) for v in parts[column].to_numpy(dtype=float)]
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
    return _styled(fig, title, x_title="target", y_title="median time (ms)")


def _nan0(value: float) -> float:
    return 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def region_latency_bars(rows: pd.DataFrame, title: str = "Read everywhere: latency per region") -> go.Figure:
    """One bar per region (rows with columns `region` and `latency_ms`), coloured like everywhere else."""
    if rows.empty:
        return _empty(title, "Nothing read yet")
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
    return _styled(fig, title, x_title="region", y_title=LATENCY_AXIS, height=380)


def geo_reads(reads: pd.DataFrame, title: str = "Reads through the global endpoint") -> go.Figure:
    """Each read through the geo-routed endpoint, grouped by client location, coloured by the region that served it.

    `reads` has columns `client location`, `served by`, `latency_ms`.
    """
    if reads.empty:
        return _empty(title, "No reads yet")
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
    return _styled(fig, title, x_title="client location", y_title=LATENCY_AXIS)


def _pair_label(source: str, destination: str) -> str:
    return f"{source} → {destination}"


def lag_distribution(
    lags: pd.DataFrame, reported: Mapping[str, float] | None = None, title: str = "Replication lag per pair"
) -> go.Figure:
    """A box per source→destination pair (colour of the destination), with ReplicationLatency beside it.

    `lags` has columns source, destination, lag_ms; `reported` maps a pair label ("a → b") to the
    ReplicationLatency the control API reports for it, drawn as a diamond.
    """
    measured = lags[lags["lag_ms"].notna()] if not lags.empty else lags
    if measured.empty:
        return _empty(title, "No replication measured yet")
    fig = go.Figure()
    labels = []
    for (source, destination), part in measured.groupby(["source", "destination"], sort=False):
        label = _pair_label(str(source), str(destination))
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
    if _add_reference_points(
        fig,
        labels,
        reported,
        "ReplicationLatency (reported)",
        {"symbol": "diamond", "size": 16, "color": "#C00000", "line": {"width": 1, "color": "white"}},
    ):
        fig.update_layout(legend=_LEGEND_ABOVE)
    return _styled(fig, title, x_title="source → destination", y_title="replication lag (ms)")


def lag_timeseries(lags: pd.DataFrame, title: str = "Replication lag over time") -> go.Figure:
    """Each probe's lag against the time it was written, a line per pair (colour of the destination)."""
    measured = lags[lags["lag_ms"].notna()] if not lags.empty else lags
    if measured.empty:
        return _empty(title, "No replication measured yet")
    time_column = next((c for c in ("elapsed_s", "timestamp") if c in measured.columns), None)
    fig = go.Figure()
    if time_column == "elapsed_s":
        elapsed = measured["elapsed_s"].to_numpy(dtype=float)
        elapsed = elapsed - np.nanmin(elapsed)
    elif time_column:
        elapsed = _elapsed_seconds(measured[time_column])
    else:
        elapsed = np.arange(len(measured), dtype=float)
    frame = measured.assign(_elapsed=elapsed)
    for (source, destination), part in frame.groupby(["source", "destination"], sort=False):
        label = _pair_label(str(source), str(destination))
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
    return _styled(fig, title, x_title=x_title, y_title="replication lag (ms)")


def value_timeline(observations: pd.DataFrame, title: str = "Each region's value over time") -> go.Figure:
    """Conflict demo: what each region answered over time (`elapsed_ms`, `region`, `value`), until they agree.

    Values are categories on the y axis; a region's line stepping onto another value is replication
    delivering the write that won.
    """
    if observations.empty:
        return _empty(title, "No observations yet")
    values = [str(v) for v in pd.unique(observations["value"].astype(str))]
    fig = go.Figure()
    for region, part in observations.groupby("region", sort=False):
        fig.add_trace(
            go.Scatter(
                x=part["elapsed_ms"].to_numpy(dtype=float),
                y=part["value"].astype(str).tolist(),
                mode="lines+markers",
                name=str(region),
                line={"shape": "hv", "color": region_color(region), "width": 3},
                marker={"size": 9},
                hovertemplate=f"{region}: %{{y}} at %{{x:.0f}} ms<extra></extra>",
            )
        )
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=values)
    return _styled(fig, title, x_title="time since the writes (ms)", y_title="value read")


def failover_timeline(
    requests: pd.DataFrame,
    events: Iterable[tuple[float, str]] = (),
    title: str = "Failover: serving region over time",
) -> go.Figure:
    """Failover demo: each request through the geo-routed endpoint (`elapsed_s`, `served_region`, `ok`).

    Successful requests sit on the row of the region that served them; failed ones on an 'error' row in red.
    `events` are (elapsed_s, label) marks such as "us-west-2 down".
    """
    if requests.empty:
        return _empty(title, "No requests yet")
    fig = go.Figure()
    ok = requests[requests["ok"].astype(bool)]
    failed = requests[~requests["ok"].astype(bool)]
    for region, part in ok.groupby("served_region", sort=False):
        fig.add_trace(
            go.Scatter(
                x=part["elapsed_s"].to_numpy(dtype=float),
                y=[str(region)] * len(part),
                mode="markers",
                name=str(region),
                marker={"color": region_color(region), "size": 10},
                hovertemplate=f"served by {region} at %{{x:.1f}} s<extra></extra>",
            )
        )
    if not failed.empty:
        fig.add_trace(
            go.Scatter(
                x=failed["elapsed_s"].to_numpy(dtype=float),
                y=["error"] * len(failed),
                mode="markers",
                name="error",
                marker={"color": "#C00000", "symbol": "x", "size": 11},
                hovertemplate="failed at %{x:.1f} s<extra></extra>",
            )
        )
    for at, label in events:
        fig.add_vline(
            x=at,
            line_dash="dash",
            line_color="#555555",
            annotation_text=label,
            annotation_font_size=FONT_SIZE - 4,
        )
    fig.update_yaxes(type="category")
    return _styled(fig, title, x_title="time since start (s)", y_title="served by")


def world_map(
    regions: pd.DataFrame,
    client: Mapping[str, float | str] | None = None,
    latencies: Mapping[str, float] | None = None,
    latency_kind: str = "modelled",
    title: str = "Regions and client",
) -> go.Figure:
    """Regions (columns region, lat, lon) and the client on an offline world map, lines labelled with latency.

    `latencies` maps a region to the client's latency to it (ms). The nearest region (lowest latency) gets a star.
    The figure uses plotly's world_110m topojson; the app serves it from /app/static so no CDN is needed.
    """
    latencies = dict(latencies or {})
    nearest = min(latencies, key=latencies.get) if latencies else None
    fig = go.Figure()
    if client is not None:
        for row in regions.itertuples(index=False):
            region = str(row.region)
            fig.add_trace(
                go.Scattergeo(
                    lat=[client["lat"], row.lat],
                    lon=[client["lon"], row.lon],
                    mode="lines",
                    line={"width": 4 if region == nearest else 2, "color": region_color(region)},
                    opacity=1.0 if region == nearest else 0.6,
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
            if region in latencies:
                # The label sits at the midpoint of the segment: readable without hovering, as on a slide.
                fig.add_trace(
                    go.Scattergeo(
                        lat=[(client["lat"] + row.lat) / 2],
                        lon=[(client["lon"] + row.lon) / 2],
                        mode="text",
                        text=[f"{latencies[region]:.0f} ms"],
                        textfont={"size": FONT_SIZE, "color": "#111111"},
                        showlegend=False,
                        hoverinfo="skip",
                    )
                )
    for row in regions.itertuples(index=False):
        region = str(row.region)
        is_nearest = region == nearest
        fig.add_trace(
            go.Scattergeo(
                lat=[row.lat],
                lon=[row.lon],
                mode="markers+text",
                name=region + (" (nearest)" if is_nearest else ""),
                text=[region],
                textposition="top center",
                textfont={"size": FONT_SIZE - 2},
                marker={
                    "size": 22 if is_nearest else 16,
                    "color": region_color(region),
                    "symbol": "star" if is_nearest else "circle",
                    "line": {"width": 1.5, "color": "white"},
                },
                hovertemplate=f"{region}<extra></extra>",
            )
        )
    if client is not None:
        fig.add_trace(
            go.Scattergeo(
                lat=[client["lat"]],
                lon=[client["lon"]],
                mode="markers+text",
                name=f"client: {client.get('name', 'you')}",
                text=[str(client.get("name", "you"))],
                textposition="bottom right",
                textfont={"size": FONT_SIZE - 2},
                marker={"size": 14, "color": "#111111", "symbol": "square"},
                hovertemplate=f"client: {client.get('name', 'you')}<extra></extra>",
            )
        )
    fig.update_geos(
        projection_type="natural earth",
        resolution=110,
        fitbounds=False,
        projection_scale=1,
        lonaxis_range=[-180, 180],
        lataxis_range=[-60, 85],
        showland=True,
        landcolor="#EDEDED",
        showcountries=True,
        countrycolor="#BBBBBB",
        showocean=True,
        oceancolor="#F4F8FB",
        showframe=False,
    )
    subtitle = f" ({latency_kind} latency)" if latencies else ""
    fig = _styled(fig, title + subtitle, height=560)
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        legend={"orientation": "h", "y": -0.02, "x": 0.5, "xanchor": "center", "yanchor": "top"},
    )
    return fig

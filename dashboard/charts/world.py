"""The world map (the Map page): regions and the client, lines labelled with latency, offline."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.labels import label_centre, place_line_labels, place_region_labels
from dashboard.charts.palette import BORDERS, INK, LAND, OCEAN, WHITE, region_color
from dashboard.charts.style import FONT_SIZE, styled


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
    points = [(str(r.region), float(r.lon), float(r.lat)) for r in regions.itertuples(index=False)]
    if client is not None:
        points.append((str(client.get("name", "you")), float(client["lon"]), float(client["lat"])))
    positions, taken = place_region_labels(points)
    labelled = [
        (region, lon, lat) for region, lon, lat in points if client is not None and region in latencies
    ]
    lines = [
        (f"{latencies[region]:.0f} ms", float(client["lon"]), float(client["lat"]), lon, lat)
        for region, lon, lat in labelled
    ]
    spots = dict(zip([region for region, _, _ in labelled], place_line_labels(lines, taken), strict=True))
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
                # The label sits on its own line, where it overlaps no other label: readable without hovering.
                spot_lon, spot_lat = spots[region]
                fig.add_trace(
                    go.Scattergeo(
                        lat=[spot_lat],
                        lon=[spot_lon],
                        mode="text",
                        text=[f"{latencies[region]:.0f} ms"],
                        textfont={"size": FONT_SIZE, "color": INK},
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
                mode="markers",
                name=region + (" (nearest)" if is_nearest else ""),
                marker={
                    "size": 22 if is_nearest else 16,
                    "color": region_color(region),
                    "symbol": "star" if is_nearest else "circle",
                    "line": {"width": 1.5, "color": WHITE},
                },
                hovertemplate=f"{region}<extra></extra>",
            )
        )
    if client is not None:
        fig.add_trace(
            go.Scattergeo(
                lat=[client["lat"]],
                lon=[client["lon"]],
                mode="markers",
                name=f"client: {client.get('name', 'you')}",
                marker={"size": 14, "color": INK, "symbol": "square"},
                hovertemplate=f"client: {client.get('name', 'you')}<extra></extra>",
            )
        )
    _draw_labels(fig, points, positions)
    fig.update_geos(
        projection_type="natural earth",
        resolution=110,
        fitbounds=False,
        projection_scale=1,
        lonaxis_range=[-180, 180],
        lataxis_range=[-60, 85],
        showland=True,
        landcolor=LAND,
        showcountries=True,
        countrycolor=BORDERS,
        showocean=True,
        oceancolor=OCEAN,
        showframe=False,
    )
    subtitle = f" ({latency_kind} latency)" if latencies else ""
    fig = styled(fig, title + subtitle, height=560)
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        legend={"orientation": "h", "y": -0.02, "x": 0.5, "xanchor": "center", "yanchor": "top"},
    )
    return fig


def _draw_labels(fig: go.Figure, points, positions) -> None:
    """Each dot's label where ``labels.place_region_labels`` put it; a thin leader line when it sits farther out."""
    for text, lon, lat in points:
        position, ring = positions[text]
        label_lon, label_lat = label_centre(lon, lat, text, position, ring)
        if ring > 1:
            fig.add_trace(
                go.Scattergeo(
                    lat=[lat, label_lat],
                    lon=[lon, label_lon],
                    mode="lines",
                    line={"width": 1, "color": INK},
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
        fig.add_trace(
            go.Scattergeo(
                lat=[label_lat],
                lon=[label_lon],
                mode="text",
                text=[text],
                textposition="middle center",
                textfont={"size": FONT_SIZE - 2},
                showlegend=False,
                hoverinfo="skip",
            )
        )

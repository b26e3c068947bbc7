"""The world map (the Map page): regions and the client, lines labelled with latency, offline."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

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
                mode="markers+text",
                name=region + (" (nearest)" if is_nearest else ""),
                text=[region],
                textposition="top center",
                textfont={"size": FONT_SIZE - 2},
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
                mode="markers+text",
                name=f"client: {client.get('name', 'you')}",
                text=[str(client.get("name", "you"))],
                textposition="bottom right",
                textfont={"size": FONT_SIZE - 2},
                marker={"size": 14, "color": INK, "symbol": "square"},
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

"""Map: the regions and the client on a world map that works offline, lines labelled with latency."""

import pandas as pd
import streamlit as st

from backend.local import network
from dashboard import charts, session
from dashboard.measure import stats

st.title("Map")
st.caption(
    "Regions and the client location; each line is labelled with the round trip to that region, "
    "the star marks the nearest region (where latency-based routing sends the client)."
)

# plotly.js fetches its world outline from a CDN unless told otherwise; the app serves the shipped copy
# (dashboard/static/world_110m.json) at /app/static/, so the map draws without Internet.
MAP_CONFIG = {"topojsonURL": "/app/static/", "displaylogo": False}


def main() -> None:
    env = session.current()
    if env.targets is not None:
        region_codes = env.regions
    else:
        region_codes = ["us-west-2", "eu-central-1"]
        st.warning((env.error or "No targets.") + " Showing the walkthrough's two regions.")

    known = [code for code in region_codes if code in network.REGIONS]
    unknown = [code for code in region_codes if code not in network.REGIONS]
    if unknown:
        st.warning(f"Not on the map (unknown to the network model): {', '.join(unknown)}")
    regions = pd.DataFrame(
        [
            {"region": code, "lat": network.REGIONS[code].lat, "lon": network.REGIONS[code].lon}
            for code in known
        ],
        columns=["region", "lat", "lon"],
    )

    location_name = session.client_location() or network.DEFAULT_CLIENT_LOCATION
    try:
        location = network.parse_location(location_name)
    except ValueError as error:
        st.error(str(error))
        return
    client = {"name": location.name, "lat": location.lat, "lon": location.lon}

    samples = session.stored("latency")
    sources = ["modelled"] + (
        ["measured (last latency run, p50)"] if samples is not None and not samples.empty else []
    )
    kind = st.radio("Latency on the lines", sources, horizontal=True, key="map_latency_kind")
    if kind == "modelled":
        latencies = {code: network.modelled_rtt_ms(location, network.region(code)) for code in known}
        label = "modelled"
    else:
        summary = stats.summarize(samples)
        latencies = {
            str(t): float(summary.loc[t, "p50"])
            for t in summary.index
            if str(t) in known and pd.notna(summary.loc[t, "p50"])
        }
        label = "measured p50"

    st.plotly_chart(
        charts.world_map(
            regions, client, latencies, latency_kind=label, title=f"Regions seen from {location.name}"
        ),
        width="stretch",
        config=MAP_CONFIG,
        key="world_map",
    )

    if latencies:
        nearest = min(latencies, key=latencies.get)
        table = pd.DataFrame(
            {
                "region": list(latencies),
                f"{label} RTT (ms)": [round(v, 1) for v in latencies.values()],
                "physical floor (ms)": [
                    round(network.fiber_floor_rtt_ms(location, network.region(c)), 1) for c in latencies
                ],
                "distance (km)": [round(network.distance_km(location, network.region(c))) for c in latencies],
            }
        ).sort_values(f"{label} RTT (ms)")
        st.success(f"Nearest region from {location.name}: **{nearest}**")
        st.dataframe(table, hide_index=True, width="stretch", key="map_table")


main()

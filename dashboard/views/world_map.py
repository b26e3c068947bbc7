"""Map: the regions and the client on a world map that works offline, lines labelled with latency.

Measured mode draws only latency runs (from the run store) whose client location is the map's client location;
a run from elsewhere is drawn only when picked explicitly, and then from that run's own location. A measured
figure under the physical floor is drawn with a warning.
"""

import pandas as pd
import streamlit as st

from backend.local import network
from dashboard import charts, session
from dashboard.measure import matrix, stats
from dashboard.measure.runs.context import location_name, same_place
from dashboard.measure.runs.store import StoreError

st.title("Map")
st.caption(
    "Regions and the client location; each line is labelled with the round trip to that region, "
    "the star marks the nearest region (where latency-based routing sends the client)."
)

# plotly.js fetches its world outline from a CDN unless told otherwise; the app serves the shipped copy
# (dashboard/static/world_110m.json) at /app/static/, so the map draws without Internet.
MAP_CONFIG = {"topojsonURL": "/app/static/", "displaylogo": False}
KINDS = ["modelled", "measured"]


def _regions(env) -> tuple[list[str], pd.DataFrame]:
    if env.targets is not None:
        region_codes = env.regions
    else:
        region_codes = ["us-west-2", "eu-central-1"]
        st.warning((env.error or "No targets.") + " Showing the walkthrough's two regions.")
    known = [code for code in region_codes if code in network.REGIONS]
    unknown = [code for code in region_codes if code not in network.REGIONS]
    if unknown:
        st.warning(f"Not on the map (unknown to the network model): {', '.join(unknown)}")
    rows = [{"region": c, "lat": network.REGIONS[c].lat, "lon": network.REGIONS[c].lon} for c in known]
    return known, pd.DataFrame(rows, columns=["region", "lat", "lon"])


def _pick_run(location) -> dict | None:
    """A latency run measured from ``location`` (or, when asked, from anywhere), or None."""
    here = {"lat": location.lat, "lon": location.lon}
    runs = [r for r in session.run_store().list(kind="latency") if r["samples"]]
    anywhere = st.checkbox("Also runs from other client locations", key="map_any_location")
    shown = (
        runs
        if anywhere
        else [r for r in runs if same_place((r["context"] or {}).get("client_location"), here)]
    )
    if not shown:
        st.info(
            f"No latency run was measured from {location.name}: the lines show the modelled round trips. "
            "Run one on the Latency page (or with mrkv-probe latency) from here."
        )
        return None
    ids = [r["id"] for r in shown]
    by_id = {r["id"]: r for r in shown}
    if st.session_state.get("map_run") not in ids:
        st.session_state["map_run"] = ids[0]
    chosen = st.selectbox(
        "Run (p50 per region)",
        ids,
        key="map_run",
        format_func=lambda x: (
            f"{by_id[x]['name'] or x} · {location_name(by_id[x]['context'])} · "
            f"{by_id[x]['started_at'][:16]} · {by_id[x]['samples']:,} samples"
        ),
    )
    return by_id[chosen]


def _measured(run: dict, known: list[str]) -> dict[str, float]:
    frame = session.run_store().frame(run["id"], columns=["target", "ok", "latency_ms", "new_connection"])
    summary = stats.summarize(frame)
    return {
        str(t): float(summary.loc[t, "p50"])
        for t in summary.index
        if str(t) in known and pd.notna(summary.loc[t, "p50"])
    }


def _under_floor(latencies: dict[str, float], location) -> None:
    under = {
        code: (value, network.fiber_floor_rtt_ms(location, network.region(code)))
        for code, value in latencies.items()
        if value < network.fiber_floor_rtt_ms(location, network.region(code))
    }
    if under:
        st.warning(
            "Under the physical floor (faster than light in fiber from the client location, so not a real round "
            "trip from there: network realism off, or the run's location is wrong): "
            + "; ".join(f"{code} {value:.1f} ms < {floor:.1f} ms" for code, (value, floor) in under.items())
        )


def region_matrix(known: list[str]) -> None:
    """Region x region: the modelled round trips, or the replication lag a lag run measured, per pair."""
    st.subheader("Region × region")
    kinds = ["modelled round trip", "replication lag (a measured run)"]
    kind = st.radio("Matrix", kinds, horizontal=True, key="map_matrix_kind")
    if kind == kinds[0]:
        figure = charts.region_matrix(matrix.modelled_rtt(known), "Modelled round trip between regions (ms)")
    else:
        store = session.run_store()
        runs = [r for r in store.list(kind="lag") if r["samples"]]
        if not runs:
            st.info("No lag run in the store yet: run one on the Replication page (or mrkv-probe lag).")
            return
        by_id = {r["id"]: r for r in runs}
        left, right = st.columns([3, 1])
        chosen = left.selectbox(
            "Lag run", list(by_id), key="map_lag_run",
            format_func=lambda x: f"{by_id[x]['name'] or x} · {by_id[x]['started_at'][:16]} · {by_id[x]['samples']} probes",
        )  # fmt: skip
        percentile = right.selectbox("Percentile", list(matrix.PERCENTILES), key="map_lag_percentile")
        lags = store.frame(chosen, columns=["source", "destination", "status", "lag_ms"])
        figure = charts.region_matrix(
            matrix.lag_percentile(lags, known, percentile),
            f"Replication lag {percentile} (ms), source → destination",
            limits=charts.matrix.LAG_LIMITS,
        )
    st.plotly_chart(figure, width="stretch", key="map_matrix")


def main() -> None:
    known, regions = _regions(session.current())
    try:
        location = network.parse_location(session.client_location() or network.DEFAULT_CLIENT_LOCATION)
    except ValueError as error:
        st.error(str(error))
        return
    if st.session_state.get("map_latency_kind") not in KINDS:
        st.session_state["map_latency_kind"] = KINDS[0]
    kind = st.radio("Latency on the lines", KINDS, horizontal=True, key="map_latency_kind")
    try:
        run = _pick_run(location) if kind == "measured" else None
    except StoreError as error:  # a store of another version, a file that is not one: the modelled lines
        st.error(str(error))
        run = None
    if run is not None:
        where = run["context"]["client_location"]
        location = network.Location(where["name"], where["lat"], where["lon"])
        latencies, label = _measured(run, known), "measured p50"
        _under_floor(latencies, location)
    else:
        latencies = {code: network.modelled_rtt_ms(location, network.region(code)) for code in known}
        label = "modelled"
    client = {"name": location.name, "lat": location.lat, "lon": location.lon}
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
    region_matrix(known)


main()

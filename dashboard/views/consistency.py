"""Consistency: the same workload on an MREC and an MRSC global table, side by side.

The page only draws: ``dashboard.measure.consistency_runs`` starts the two local clouds (same regions, network model
and client location), runs ``probes.consistency`` on both, keeps the run and stops the clouds; every figure comes
from ``probes.consistency_figures``, the same as ``mrkv-probe consistency --json``.
"""

import pandas as pd
import streamlit as st

from backend.local import network
from dashboard import charts, live_panel, session
from dashboard.measure.cloud_pair import DEFAULT_REGIONS, check_mrsc_regions
from dashboard.measure.consistency_runs import SETTINGS, compare_consistency
from dashboard.measure.errors import ProbeError
from dashboard.measure.live import LiveRun
from dashboard.measure.probes import consistency_figures as cf
from dashboard.measure.runs.store import StoreError

NAME = "consistency"
US = list(DEFAULT_REGIONS)
NO_WITNESS = "none: three full regions"

st.title("Consistency: MREC next to MRSC")
st.caption(
    "Two local clouds, started for this run with the same regions, network model and client: one **MREC** "
    "global table (multi-Region eventually consistent: every region takes writes, last writer wins) and one "
    "**MRSC** global table (multi-Region strongly consistent: a write is acknowledged once a majority of the "
    "regions has it). The same workload runs on each, one after the other: writes read back in another region, "
    "two regions writing one key at once, then one region cut off from the others."
)


def settings_ui() -> dict:
    columns = st.columns([3, 2, 2])
    with columns[0]:
        regions = st.multiselect("Regions (one MRSC region set)", US, default=US, key="cons_regions")
    with columns[1]:
        others = [r for r in US if r not in regions]
        witness = st.selectbox("MRSC witness", [NO_WITNESS, *others], key="cons_witness")
    with columns[2]:
        realism = st.radio(
            "Network", ["none", "realistic"], horizontal=True, key="cons_network",
            help="none: no emulated delays (quick). realistic: the network model's round trips (a demo).",
        )  # fmt: skip
    columns = st.columns(5)
    cities = sorted(network.CITIES)
    current = session.client_location()
    with columns[0]:
        location = st.selectbox(
            "Client location",
            cities,
            index=cities.index(current) if current in cities else 0,
            key="cons_client",
        )
    with columns[1]:
        writes = st.number_input("Writes", 2, 200, SETTINGS["writes"], key="cons_writes")
    with columns[2]:
        trials = st.number_input("Conflict trials", 0, 50, SETTINGS["trials"], key="cons_trials")
    with columns[3]:
        rounds = st.number_input("Isolation rounds", 0, 50, SETTINGS["isolation_rounds"], key="cons_rounds")
    with columns[4]:
        isolate = st.selectbox("Region to cut off", list(reversed(regions)) or US, key="cons_isolate")
    return {
        "regions": list(regions),
        "witness": None if witness == NO_WITNESS else witness,
        "network": realism,
        "client_location": location,
        "isolate": isolate,
        "writes": int(writes),
        "trials": int(trials),
        "isolation_rounds": int(rounds),
    }


def start(settings: dict) -> None:
    def work(progress, on_sample, stop):
        return compare_consistency(
            settings, session.run_store(), progress, on_sample, stop, created_by="dashboard"
        )

    def steps(elapsed_s, done, total):
        if total <= 1:
            return 1, 3, "starting an MREC and an MRSC local cloud"
        side = "MREC" if done < total / 2 else "MRSC"
        return (2 if side == "MREC" else 3), 3, f"the workload on the {side} cloud ({done}/{total} requests)"

    session.store("consistency_pending_settings", settings)
    live_panel.start(NAME, LiveRun(work, steps=steps))


def draw_so_far(rows: list[dict]) -> None:
    if rows:
        figures = cf.figures(pd.DataFrame(rows, columns=cf.SAMPLE_COLUMNS))
        st.dataframe(cf.table(figures), hide_index=True, width="stretch", key="cons_live_table")


def finish(live: LiveRun) -> None:
    if live.error is not None:
        known = isinstance(live.error, (ProbeError, StoreError, ValueError))
        text = str(live.error) if known else f"{type(live.error).__name__}: {live.error}"
        session.store("consistency_error", f"The comparison did not run: {text}")
        return
    session.store("consistency_error", None)
    session.store("consistency_samples", live.result.samples)
    session.store("consistency_figures", live.result.figures)
    session.store("consistency_settings", session.stored("consistency_pending_settings"))
    session.store("consistency_stopped", live.cancelled)


def show(figures: dict, settings: dict) -> None:
    if session.stored("consistency_settings") != settings:
        st.warning("These results are from other settings than the ones above: run again to refresh them.")
    if session.stored("consistency_stopped"):
        st.warning("Cancelled: the figures cover what was measured before the run was stopped.")
    for side, totals in figures["sides"].items():
        lost = totals["conflict_lost"]
        (st.warning if lost else st.info)(cf.verdict(side, totals))
    st.dataframe(cf.table(figures), hide_index=True, width="stretch", key="cons_table")
    st.caption(
        "Per region. Stale: the first read in this region after another region's write was acknowledged did not "
        "show it (how long it stayed stale: p50 over the stale ones). Conflicts: writes this region made while "
        "another region wrote the same key: acknowledged / rejected (409, not applied) / lost (acknowledged, still "
        "read back after the race, then gone though nobody wrote again). Cut off: answered while one region was "
        "isolated. Definitions: docs/MEASUREMENTS.md, 'Consistency'."
    )
    left, right = st.columns(2)
    with left:
        long = cf.long_form(figures, ("write_p50_ms", "write_p99_ms"))
        st.plotly_chart(charts.write_latency(long), width="stretch", key="cons_latency")
        long = cf.long_form(figures, ("write_avail_pct", "strong_avail_pct", "eventual_avail_pct"))
        st.plotly_chart(charts.availability(long), width="stretch", key="cons_availability")
    with right:
        long = cf.long_form(figures, ("eventual_stale_pct", "strong_stale_pct"))
        st.plotly_chart(charts.stale_reads(long), width="stretch", key="cons_stale")
        st.plotly_chart(
            charts.conflict_outcomes(cf.outcome_counts(figures)), width="stretch", key="cons_conflicts"
        )


settings = settings_ui()
problem = None
try:
    check_mrsc_regions(settings["regions"], settings["witness"])
except ProbeError as error:
    problem = str(error)
if st.button(
    "Run MREC and MRSC",
    key="cons_run",
    type="primary",
    disabled=live_panel.running(NAME) or problem is not None,
):
    start(settings)
if problem:
    st.info(f"Choose the regions: {problem}.")
live_panel.show(NAME, draw_so_far, finish)
if session.stored("consistency_error"):
    st.error(session.stored("consistency_error"))
stored = session.stored("consistency_figures")
if stored is not None and stored["regions"]:
    show(stored, settings)

"""Resilience: concurrent writes resolved by last writer wins, and a region outage with failover."""

import pandas as pd
import streamlit as st

from dashboard import charts, conflict_probe, session
from dashboard._runner import ProbeError
from dashboard.targets import TargetError

st.title("Resilience")

env = session.current()
if not env.ready:
    st.error(env.error or "No targets.")


def winner_explanation(row) -> str:
    """Why this value won, in one sentence a room can follow."""
    written = pd.to_datetime(row["winner_written_at"], unit="ms", utc=True)
    losers = row["losers"] or "none"
    at = f"{written:%H:%M:%S.%f}"[:-3]
    reason = (f"**{row['winner_value']}** (written in **{row['winner_region']}** at {at} UTC) "
              "is now the value in every region. "
              f"Last writer wins: every replica keeps the write with the greatest writtenAt, ties broken by region "
              f"name, so all of them pick the same one without talking to each other. Overwritten: {losers}.")
    if row["write_spread_ms"] == 0:
        reason += " The writes carried the same millisecond: the region name decided."
    return reason


def timeline_of(timeline: pd.DataFrame, trial: int) -> pd.DataFrame:
    part = timeline[timeline["trial"] == trial]
    if part.empty:
        return pd.DataFrame(columns=["elapsed_ms", "region", "value"])
    return pd.DataFrame({
        "elapsed_ms": (part["elapsed_s"] - part["elapsed_s"].min()) * 1000.0,
        "region": part["region"],
        # The probe's values are "<region>:<run>:<trial>": the region that wrote it is what the audience follows.
        "value": [f"{v.split(':', 1)[0]}'s write" if v else "(missing)" for v in part["value"].astype(str)],
    })


st.header("Conflict: the same key written in every region at once")
st.caption("Each region writes its own value to one key at the same moment (the writers are released together). "
           "Replication then carries every write everywhere; watch the regions disagree, then agree.")
if env.ready:
    columns = st.columns([3, 1, 1])
    with columns[0]:
        regions = st.multiselect("Regions writing", env.regions, default=env.regions, key="conflict_regions")
    with columns[1]:
        trials = st.number_input("Trials", min_value=1, max_value=50, value=3, key="conflict_trials")
    with columns[2]:
        st.write("")
        run = st.button("Run the conflict", key="conflict_run", type="primary", width="stretch")
    if run:
        bar = st.progress(0.0, text="Starting…")
        try:
            results, timeline = conflict_probe.run_conflict(
                env.targets, regions, trials=int(trials),
                progress=lambda done, total, message: bar.progress(done / total if total else 1.0, text=message))
        except (ProbeError, TargetError) as error:
            bar.empty()
            st.error(str(error))
        else:
            session.store("conflict", results)
            session.store("conflict_timeline", timeline)
            bar.progress(1.0, text=f"Done: {len(results)} trial(s)")

results = session.stored("conflict")
timeline = session.stored("conflict_timeline")
if results is not None and not results.empty:
    agreed = results[results["converged"]]
    if len(agreed) == len(results):
        lww = int(results["follows_lww"].sum())
        st.success(f"One winner everywhere in {len(results)} of {len(results)} trial(s); "
                   f"{lww} of them the last-writer-wins winner of the acknowledged writes.")
    else:
        st.error(f"{len(results) - len(agreed)} trial(s) did not converge: "
                 + "; ".join(results.loc[~results["converged"], "error"].astype(str)))
    trial_ids = results["trial"].tolist()
    trial = st.selectbox("Trial to show", trial_ids, index=len(trial_ids) - 1, key="conflict_trial")
    row = results[results["trial"] == trial].iloc[0]
    if row["converged"]:
        st.info(winner_explanation(row))
    st.plotly_chart(charts.value_timeline(timeline_of(timeline, trial),
                                          title=f"Trial {trial}: each region's value until they agree"),
                    width="stretch", key="conflict_timeline_chart")
    shown = results[["trial", "winner_region", "winner_value", "follows_lww", "losers", "write_spread_ms",
                     "converge_ms", "rounds", "error"]]
    st.dataframe(shown.round(1), hide_index=True, width="stretch", key="conflict_table")

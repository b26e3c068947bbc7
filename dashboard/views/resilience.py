"""Resilience: concurrent writes resolved by last writer wins, and a region outage with failover."""

import pandas as pd
import streamlit as st

from dashboard import charts, session
from dashboard.measure.errors import ProbeError
from dashboard.measure.probes import conflict as conflict_probe
from dashboard.measure.probes import failover as failover_probe
from dashboard.measure.runs.store import StoreError
from dashboard.measure.targets import TargetError

st.title("Resilience")

env = session.current()
if not env.ready:
    session.explain_not_ready(env)


def winner_explanation(row) -> str:
    """Why this value won, in one sentence a room can follow."""
    written = pd.to_datetime(row["winner_written_at"], unit="ms", utc=True)
    losers = row["losers"] or "none"
    at = f"{written:%H:%M:%S.%f}"[:-3]
    reason = (
        f"**{row['winner_value']}** (written in **{row['winner_region']}** at {at} UTC) "
        "is now the value in every region. "
        f"Last writer wins: every replica keeps the write with the greatest writtenAt, ties broken by region "
        f"name, so all of them pick the same one without talking to each other. Overwritten: {losers}."
    )
    if row["write_spread_ms"] == 0:
        reason += " The writes carried the same millisecond: the region name decided."
    return reason


def timeline_of(timeline: pd.DataFrame, trial: int) -> pd.DataFrame:
    part = timeline[timeline["trial"] == trial]
    if part.empty:
        return pd.DataFrame(columns=["elapsed_ms", "region", "value"])
    return pd.DataFrame(
        {
            "elapsed_ms": (part["elapsed_s"] - part["elapsed_s"].min()) * 1000.0,
            "region": part["region"],
            # The probe's values are "<region>:<run>:<trial>": the region that wrote it is what the audience follows.
            "value": [
                f"{v.split(':', 1)[0]}'s write" if v else "(missing)" for v in part["value"].astype(str)
            ],
        }
    )


st.header("Conflict: the same key written in every region at once")
st.caption(
    "Each region writes its own value to one key at the same moment (the writers are released together). "
    "Replication then carries every write everywhere; watch the regions disagree, then agree."
)
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
            with session.recording("conflict", env, {"trials": int(trials)}, regions) as run:
                results, timeline = conflict_probe.run_conflict(
                    env.targets,
                    regions,
                    trials=int(trials),
                    progress=lambda done, total, message: bar.progress(
                        done / total if total else 1.0, text=message
                    ),
                    on_sample=run.on_sample,
                )
                run.complete({"results": results, "timeline": timeline})
        except (ProbeError, TargetError, StoreError) as error:
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
        st.success(
            f"One winner everywhere in {len(results)} of {len(results)} trial(s); "
            f"{lww} of them the last-writer-wins winner of the acknowledged writes."
        )
    else:
        st.error(
            f"{len(results) - len(agreed)} trial(s) did not converge: "
            + "; ".join(results.loc[~results["converged"], "error"].astype(str))
        )
    trial_ids = results["trial"].tolist()
    trial = st.selectbox("Trial to show", trial_ids, index=len(trial_ids) - 1, key="conflict_trial")
    row = results[results["trial"] == trial].iloc[0]
    if row["converged"]:
        st.info(winner_explanation(row))
    st.plotly_chart(
        charts.value_timeline(
            timeline_of(timeline, trial), title=f"Trial {trial}: each region's value until they agree"
        ),
        width="stretch",
        key="conflict_timeline_chart",
    )
    shown = results[
        [
            "trial",
            "winner_region",
            "winner_value",
            "follows_lww",
            "losers",
            "write_spread_ms",
            "converge_ms",
            "rounds",
            "error",
        ]
    ]
    st.dataframe(shown.round(1), hide_index=True, width="stretch", key="conflict_table")


st.divider()
st.header("Failover: a region goes down, the geo-routed endpoint moves")
if env.ready and not env.targets.global_url:
    st.info("This environment has no geo-routed (global) endpoint, so there is nothing to fail over.")
elif env.ready:
    if env.is_local:
        st.caption(
            "Steady reads through the global endpoint; the local cloud takes a region down, then brings it "
            "back. The router's health checks notice, and send requests to the next nearest region."
        )
    else:
        st.caption("On AWS the probe only watches: make a region's health check fail yourself while it runs.")
    columns = st.columns(4)
    with columns[0]:
        choices = ["nearest (serving now)"] + env.regions
        victim = st.selectbox("Region to take down", choices, key="failover_region")
    with columns[1]:
        duration = st.number_input(
            "Duration (s)", min_value=5.0, max_value=300.0, value=20.0, key="failover_duration"
        )
    with columns[2]:
        down_at = st.number_input(
            "Down at (s)", min_value=0.0, max_value=295.0, value=3.0, key="failover_down_at"
        )
    with columns[3]:
        up_at = st.number_input(
            "Back up at (s)", min_value=1.0, max_value=299.0, value=12.0, key="failover_up_at"
        )
    if st.button("Run the failover", key="failover_run", type="primary"):
        if not down_at < up_at < duration:
            st.error(
                "The outage must start before it ends, and end before the run does (down < up < duration)."
            )
        else:
            bar = st.progress(0.0, text="Starting…")
            try:
                workload = {"region": victim, "duration_s": duration, "down_at_s": down_at, "up_at_s": up_at}
                with session.recording("failover", env, workload, ["global"]) as run:
                    timeline, summary = failover_probe.run_failover(
                        env.targets,
                        region_to_fail=None if victim.startswith("nearest") else victim,
                        control=env.control,
                        duration_s=float(duration),
                        down_at_s=float(down_at),
                        up_at_s=float(up_at),
                        progress=lambda done, total, message: bar.progress(
                            min(done / total, 1.0) if total else 1.0, text=message
                        ),
                        on_sample=run.on_sample,
                    )
                    run.complete({"samples": timeline}, summary)
            except (ProbeError, TargetError, StoreError) as error:
                bar.empty()
                st.error(str(error))
            else:
                session.store("failover", timeline)
                session.store("failover_summary", summary)
                bar.progress(1.0, text=f"Done: {len(timeline)} requests")

failover = session.stored("failover")
summary = session.stored("failover_summary") or {}
if failover is not None and not failover.empty:
    failed_region = summary.get("failed_region") or "?"
    columns = st.columns(4)
    columns[0].metric("Region taken down", failed_region)
    columns[1].metric(
        "Failover", f"{summary['failover_s']:.1f} s" if summary.get("failover_s") is not None else "—"
    )
    columns[2].metric(
        "Failback", f"{summary['failback_s']:.1f} s" if summary.get("failback_s") is not None else "—"
    )
    columns[3].metric("Errors during outage", summary.get("errors_during_outage", 0))
    if summary.get("bound_s") is not None:
        verdict = "within" if summary.get("within_bound") else "NOT within"
        st.caption(
            f"Router bound (health-check interval × failure threshold + TTL): {summary['bound_s']:.1f} s; "
            f"failover {verdict} it."
        )
    events = []
    if summary.get("down_at_s") is not None:
        events.append((float(summary["down_at_s"]), f"{failed_region} down"))
    if summary.get("up_at_s") is not None:
        events.append((float(summary["up_at_s"]), f"{failed_region} up"))
    st.plotly_chart(charts.failover_timeline(failover, events), width="stretch", key="failover_chart")

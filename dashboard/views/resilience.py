"""Resilience: concurrent writes resolved by last writer wins, and a region outage with failover."""

import pandas as pd
import streamlit as st

from dashboard import charts, live_panel, session
from dashboard.measure import samples
from dashboard.measure.errors import ProbeError
from dashboard.measure.live import LiveRun, recorded
from dashboard.measure.probes import conflict as conflict_probe
from dashboard.measure.probes import conflict_figures, failover_figures
from dashboard.measure.probes import failover as failover_probe
from dashboard.measure.runs.store import StoreError
from dashboard.measure.targets import TargetError

st.title("Resilience")

env = session.current()
if not env.ready:
    session.explain_not_ready(env)


ERRORS = (ProbeError, TargetError, StoreError)
TIMINGS = {"leave": "leave together (the farther region wins)", "land": "land together (a real race)"}


def report_error(name: str) -> None:
    """The error of the last run of ``name``, once, in words (kept in the session by the live run's finish)."""
    message = session.stored(f"{name}_error")
    if message:
        st.error(message)


def _finished(name: str, live: LiveRun) -> bool:
    """Stores the error of a finished run (if any, in words); True when it has results to show."""
    if isinstance(live.error, ERRORS):
        session.store(f"{name}_error", str(live.error))
    elif live.error is not None:
        session.store(f"{name}_error", f"The run failed: {type(live.error).__name__}: {live.error}")
    else:
        session.store(f"{name}_error", None)
    return live.error is None


def start_conflict(env, regions: list[str], trials: int, settings: dict) -> None:
    def call(progress, on_sample, stop):
        return conflict_probe.run_conflict(
            env.targets,
            regions,
            trials=trials,
            progress=progress,
            on_sample=on_sample,
            stop=stop,
            land_together=settings["timing"] == "land",
        )

    def keep(result):
        results, timeline = result
        return {"results": results, "timeline": timeline}, conflict_figures.run_figures(results)

    def steps(elapsed_s, done, total):
        n = min(done + 1, trials)
        return n, trials, f"trial {n}: {', '.join(regions)} write at once, then watch them agree"

    recording = session.recording("conflict", env, {"trials": trials, "timing": settings["timing"]}, regions)
    session.store("conflict_pending_settings", settings)
    live_panel.start("conflict", LiveRun(recorded(recording, call, keep), steps=steps))


def draw_conflict_so_far(rows: list[dict]) -> None:
    if rows:
        so_far = pd.DataFrame(rows)
        st.dataframe(
            conflict_figures.table(so_far), hide_index=True, width="stretch", key="conflict_live_table"
        )


def finish_conflict(live: LiveRun) -> None:
    if _finished("conflict", live):
        results, timeline = live.result
        session.store("conflict", results)
        session.store("conflict_timeline", timeline)
        session.store("conflict_settings", session.stored("conflict_pending_settings"))
        session.store("conflict_stopped", live.cancelled)


def start_failover(env, settings: dict) -> None:
    victim, duration, down_at, up_at = (
        settings["region"],
        settings["duration_s"],
        settings["down_at_s"],
        settings["up_at_s"],
    )
    region = None if victim.startswith("nearest") else victim

    def call(progress, on_sample, stop):
        return failover_probe.run_failover(
            env.targets,
            region_to_fail=region,
            control=env.control,
            duration_s=float(duration),
            down_at_s=float(down_at),
            up_at_s=float(up_at),
            progress=progress,
            on_sample=on_sample,
            stop=stop,
        )

    def keep(result):
        timeline, figures = result
        return {"samples": timeline}, figures

    def steps(elapsed_s, done, total):
        name = region or "the nearest region"
        if elapsed_s < down_at:
            return 1, 3, f"steady reads through the global endpoint; {name} goes down at {down_at:.0f} s"
        if elapsed_s < up_at:
            return 2, 3, f"{name} is down: watch the router move; back up at {up_at:.0f} s"
        return 3, 3, f"{name} is back: watch the router return"

    recording = session.recording("failover", env, dict(settings), ["global"])
    session.store("failover_pending_settings", settings)
    live_panel.start(
        "failover", LiveRun(recorded(recording, call, keep), total_s=float(duration), steps=steps)
    )


def draw_failover_so_far(rows: list[dict]) -> None:
    if rows:
        st.plotly_chart(
            charts.failover_timeline(
                samples.to_frame(rows), title="Failover so far: serving region over time"
            ),
            width="stretch",
            key="failover_live_chart",
        )


def finish_failover(live: LiveRun) -> None:
    if _finished("failover", live):
        timeline, figures = live.result
        session.store("failover", timeline)
        session.store("failover_summary", figures)
        session.store("failover_settings", session.stored("failover_pending_settings"))


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
        run = st.button(
            "Run the conflict",
            key="conflict_run",
            type="primary",
            width="stretch",
            disabled=live_panel.running("conflict"),
        )
    timing = st.radio(
        "The writes",
        list(TIMINGS),
        format_func=TIMINGS.get,
        horizontal=True,
        key="conflict_timing",
        help="Leaving together, the farther region's write lands later and wins: that is the physics. "
        "Timed to land together, the nearer region's write is held back by the difference: a real race.",
    )
    conflict_settings = {"regions": list(regions), "trials": int(trials), "timing": timing}
    if run:
        start_conflict(env, list(regions), int(trials), conflict_settings)
    live_panel.show("conflict", draw_conflict_so_far, finish_conflict)
    report_error("conflict")


def show_conflict(results: pd.DataFrame, timeline: pd.DataFrame, settings: dict | None) -> None:
    """The conflict run, every figure from ``conflict_figures`` (the same as ``mrkv-probe conflict --json``)."""
    figures = conflict_figures.run_figures(results)
    if settings is not None and settings != session.stored("conflict_settings"):
        st.warning("These results are from other settings than the ones above: run again to refresh them.")
    if session.stored("conflict_stopped"):
        st.warning(f"Cancelled: {figures['trials']} trial(s) were measured before the run was stopped.")
    line = conflict_figures.summary_line(figures)
    if figures["converged"] == figures["trials"]:
        st.success(f"One winner everywhere in {figures['trials']} of {figures['trials']} trial(s): {line}.")
    else:
        failed = results.loc[~results["converged"].astype(bool), "error"].astype(str)
        st.error(f"{line}. Not converged: " + "; ".join(failed))
    trial_ids = results["trial"].tolist()
    trial = st.selectbox("Trial to show", trial_ids, index=len(trial_ids) - 1, key="conflict_trial")
    row = results[results["trial"] == trial].iloc[0]
    if row["converged"]:
        landed = (session.stored("conflict_settings") or {}).get("timing") == "land"
        st.info(conflict_figures.explain_winner(row, landed_together=landed))
    st.plotly_chart(
        charts.value_timeline(
            conflict_figures.observations(timeline, trial),
            title=f"Trial {trial}: each region's value until they agree",
            agreed_ms=conflict_figures.trials(results[results["trial"] == trial])[0]["converge_ms"],
        ),
        width="stretch",
        key="conflict_timeline_chart",
    )
    st.table(conflict_figures.table(results).set_index("trial"))


results = session.stored("conflict")
if results is not None and not results.empty:
    show_conflict(results, session.stored("conflict_timeline"), conflict_settings if env.ready else None)


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
    failover_settings = {"region": victim, "duration_s": duration, "down_at_s": down_at, "up_at_s": up_at}
    if st.button(
        "Run the failover", key="failover_run", type="primary", disabled=live_panel.running("failover")
    ):
        if not down_at < up_at < duration:
            st.error(
                "The outage must start before it ends, and end before the run does (down < up < duration)."
            )
        else:
            start_failover(env, failover_settings)
    live_panel.show("failover", draw_failover_so_far, finish_failover)
    report_error("failover")


def show_failover(timeline: pd.DataFrame, figures: dict, settings: dict | None) -> None:
    """The failover run, every figure from ``failover_figures`` (the same as ``mrkv-probe failover --json``)."""
    if settings is not None and settings != session.stored("failover_settings"):
        st.warning("These results are from other settings than the ones above: run again to refresh them.")
    columns = st.columns(4)
    for column, key in zip(
        columns, ("failed_region", "failover_s", "failback_s", "not_served_during_outage"), strict=True
    ):
        shown = failover_figures.text(figures, key) if figures.get(key) is not None else "did not happen"
        column.metric(failover_figures.LABELS[key], shown)
    (st.info if figures.get("moved_away_s") is not None else st.warning)(failover_figures.sentence(figures))
    if figures.get("within_bound") is not None:
        verdict = "within" if figures["within_bound"] else "NOT within"
        st.caption(
            "Router bound (health-check interval × failure threshold + TTL): "
            f"{failover_figures.text(figures, 'bound_s')}; as the client sees it (plus one request interval and "
            f"the answer's own latency): {failover_figures.text(figures, 'bound_seen_s')}. "
            f"The failover, {failover_figures.text(figures, 'failover_s')}, is {verdict} it."
        )
    st.plotly_chart(
        charts.failover_timeline(timeline, failover_figures.events(figures)),
        width="stretch",
        key="failover_chart",
    )
    st.table(failover_figures.table(figures).set_index("figure"))


failover = session.stored("failover")
if failover is not None and not failover.empty:
    show_failover(
        failover,
        session.stored("failover_summary") or {},
        failover_settings if env.ready and env.targets.global_url else None,
    )

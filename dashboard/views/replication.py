"""Replication: how long a write in one region takes to become readable in the others."""

from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from dashboard import charts, live_panel, session, ui
from dashboard.measure.errors import ProbeError
from dashboard.measure.live import LiveRun, recorded
from dashboard.measure.probes import lag as lag_probe
from dashboard.measure.probes.lag_math import lag_summary
from dashboard.measure.probes.lag_reference import pending_replication, reference_lag
from dashboard.measure.runs.store import StoreError
from dashboard.measure.targets import TargetError

st.title("Replication lag")
st.caption(
    "Each probe writes a unique value in the source region, then polls every destination until it shows "
    "up. Lag = first sighting minus the write, both corrected for their one-way network time."
)


def reported_by_system(env, source, destinations, started, ended) -> tuple[dict[str, float], str]:
    """ReplicationLatency the system itself reports for the run's window ("source → destination" -> ms), and
    where it comes from (the local replicator, or CloudWatch on AWS)."""
    if env.control is None and any(
        urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1") for url in env.targets.regions.values()
    ):
        return {}, ""  # loopback targets without a control API: there is no CloudWatch to ask
    try:
        figures = reference_lag(env.targets, source, destinations, started, ended, control=env.control)
    except Exception as error:  # the metric is a bonus beside the probes: a failure is a note, not a stop
        st.warning(f"ReplicationLatency is not available: {error}")
        return {}, ""
    if figures is None or figures.empty:
        return {}, ""
    out = {}
    for (src, dst), row in figures.iterrows():
        value = row.get("p50_ms")
        if value is None or pd.isna(value):
            value = row.get("mean_ms")
        if value is not None and pd.notna(value):
            out[f"{src} → {dst}"] = float(value)
    origin = str(figures["origin"].iloc[0]) if "origin" in figures.columns else ""
    return out, origin


def start_lag(env, params) -> None:
    """The probes run in a thread (``dashboard.measure.live``): the page shows them live and can cancel them."""
    targets = [params.source, *params.destinations]

    def call(progress, on_sample, stop):
        started = pd.Timestamp.now(tz="UTC")
        lags = lag_probe.run_lag(
            env.targets,
            params.source,
            params.destinations,
            probes=params.probes,
            timeout_s=params.timeout_s,
            progress=progress,
            on_sample=on_sample,
            stop=stop,
        )
        return lags, started, pd.Timestamp.now(tz="UTC")

    def steps(elapsed_s, done, total):
        n = min(done + 1, total) if total else 1
        return (
            n,
            total or params.probes,
            f"probe {n}: write in {params.source}, watch {', '.join(params.destinations)}",
        )

    recording = session.recording("lag", env, vars(params), targets)
    work = recorded(recording, call, lambda result: ({"samples": result[0]}, None))
    session.store("lag_pending", {"source": params.source, "destinations": list(params.destinations)})
    live_panel.start("lag", LiveRun(work, steps=steps))


def draw_lag_so_far(rows: list[dict]) -> None:
    if rows:
        st.plotly_chart(
            charts.lag_timeseries(pd.DataFrame(rows), title="Replication lag (live)"),
            width="stretch",
            key="lag_live_chart",
        )


def finish_lag(env, live) -> None:
    if live.error is not None:
        known = isinstance(live.error, (ProbeError, TargetError, StoreError))
        message = str(live.error) if known else f"The run failed: {type(live.error).__name__}: {live.error}"
        session.store("lag_error", message)
        return
    session.store("lag_error", None)
    lags, started, ended = live.result
    pending = session.stored("lag_pending") or {}
    session.store("lag", lags)
    reported, origin = reported_by_system(
        env, pending.get("source"), pending.get("destinations", []), started, ended
    )
    session.store("lag_reported", reported)
    session.store("lag_reported_origin", origin)


env = session.current()
if env.ready and len(env.regions) < 2:
    st.error("Replication needs at least two regions in the environment.")
elif env.ready:
    params = ui.lag_params_ui(env.regions)
    if st.button("Run probes", key="lag_run", type="primary", disabled=live_panel.running("lag")):
        if not params.destinations:
            st.error("Choose at least one destination region.")
        else:
            start_lag(env, params)
    live_panel.show("lag", draw_lag_so_far, lambda live: finish_lag(env, live))
    if session.stored("lag_error"):
        st.error(session.stored("lag_error"))
else:
    session.explain_not_ready(env)

lags = session.stored("lag")
if lags is not None and not lags.empty:
    reported = session.stored("lag_reported") or {}
    summary = lag_summary(lags).reset_index()
    summary.insert(
        0, "pair", [f"{s} → {d}" for s, d in zip(summary["source"], summary["destination"], strict=True)]
    )
    summary["ReplicationLatency"] = [reported.get(label) for label in summary["pair"]]
    st.subheader("Lag per pair (ms)")
    if reported:
        st.caption(
            "ReplicationLatency column and red diamonds: the system's own figure for the same window, from "
            + (session.stored("lag_reported_origin") or "the replicator")
            + "."
        )
    st.dataframe(
        summary.drop(columns=["source", "destination"]).round(1),
        hide_index=True,
        width="stretch",
        key="lag_summary",
    )
    timeouts = int((lags["status"] != "seen").sum())
    if timeouts:
        st.warning(
            f"{timeouts} probe(s) were not seen in time or could not be written: "
            + "; ".join(sorted(set(lags.loc[lags["status"] != "seen", "error"].astype(str)))[:3])
        )
    log = st.toggle("Log scale", key="lag_log")
    left, right = st.columns(2)
    with left:
        figure = charts.lag_distribution(lags, reported)
        st.plotly_chart(charts.log_scale(figure, log), width="stretch", key="lag_distribution")
    with right:
        figure = charts.lag_timeseries(lags)
        st.plotly_chart(charts.log_scale(figure, log), width="stretch", key="lag_timeseries")

if env.ready and env.control is not None and len(env.regions) >= 2:
    st.subheader("PendingReplicationCount")
    try:
        pending = pending_replication(env.control.replication_latency())
    except Exception as error:  # the figure is a bonus beside the probes: a failure is a note, not a stop
        st.warning(f"PendingReplicationCount is not available: {getattr(error, 'message', None) or error}")
    else:
        st.caption("Item updates written in the source and not yet in the destination, now (the replicator's queues).")
        st.dataframe(pending, hide_index=True, width="stretch", key="pending_replication")

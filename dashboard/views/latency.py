"""Latency: the same requests against several targets at the same time, compared side by side."""

import streamlit as st

from dashboard import charts, session, ui
from dashboard.measure import stats
from dashboard.measure.errors import ProbeError
from dashboard.measure.probes import latency as latency_run
from dashboard.measure.runs.store import StoreError
from dashboard.measure.targets import TargetError

st.title("Latency")
st.caption(
    "N requests per target, interleaved so every target sees the same machine load; "
    "box = p25-p75, whiskers p1-p99, red bar = the speed-of-light floor from the client location; "
    "model p50/p90/p99 = what the local cloud's network model draws from (docs/NETWORK-MODEL.md)."
)

env = session.current()
if env.ready:
    params = ui.latency_params_ui(env.targets.names())
    # What the results below were measured with: when it changes, they are marked as stale.
    settings = {**vars(params), "client_location": session.client_location(), "network": session.network_mode()}
    if st.button("Run", key="lat_run", type="primary"):
        if not params.targets:
            st.error("Choose at least one target.")
        else:
            bar = st.progress(0.0, text="Starting…")

            def progress(done: int, total: int, message: str) -> None:
                bar.progress(min(done / total, 1.0) if total else 1.0, text=message)

            try:
                with session.recording("latency", env, vars(params), params.targets) as run:
                    samples = latency_run.run_latency(
                        env.targets,
                        params.targets,
                        operation=params.operation,
                        count=params.count,
                        concurrency=params.concurrency,
                        rate=params.rate,
                        progress=progress,
                        on_sample=run.on_sample,
                    )
                    run.complete({"samples": samples})
            except (ProbeError, TargetError, StoreError) as error:
                bar.empty()
                st.error(str(error))
            else:
                location = session.client_location()
                session.store("latency", samples)
                session.store("latency_settings", settings)
                session.store(
                    "latency_floors",
                    latency_run.floors(env.targets, params.targets, location) if location else {},
                )
                realistic = location and session.network_mode() == "realistic"
                session.store(
                    "latency_model",
                    latency_run.model_percentiles(env.targets, params.targets, location) if realistic else {},
                )
                bar.progress(1.0, text=f"Done: {len(samples)} requests")
else:
    session.explain_not_ready(env)

samples = session.stored("latency")
if samples is not None and not samples.empty:
    if env.ready and session.stored("latency_settings") not in (None, settings):
        st.warning(
            "These results were measured with other settings (targets, workload, client location or network) "
            "than the ones above: press Run to measure again."
        )
    floors = session.stored("latency_floors") or {}
    summary = stats.summarize(samples)
    summary["physical floor"] = [floors.get(str(t)) for t in summary.index]
    model = session.stored("latency_model") or {}
    if any(model.values()):
        for name in ("p50", "p90", "p99"):
            summary[f"model {name}"] = [(model.get(str(t)) or {}).get(name) for t in summary.index]
    failed = int(summary["errors"].sum())
    st.subheader(f"Summary (ms): {len(samples):,} requests" + (f", {failed:,} failed" if failed else ""))
    st.dataframe(summary.round(1), width="stretch", key="lat_summary")
    if failed:
        errors = samples.loc[~samples["ok"], ["target", "status", "error"]].value_counts().head(5)
        st.warning(
            "Most frequent errors: "
            # Said once: an error without a message of its own already reads "HTTP 503 Service Unavailable".
            + "; ".join(
                f"{t} {e if str(e).startswith('HTTP') else f'HTTP {s}: {e}'} (×{n})"
                for (t, s, e), n in errors.items()
            )
        )

    if session.network_mode() == "none":
        st.info(
            "Network realism is off: requests cross only the loopback interface, so they can beat the "
            "physical floor, which is the time light would need from the client location."
        )
    log = st.toggle(
        "Log scale",
        key="lat_log",
        help="Latency axes start at zero; a log scale shows tails and medians together",
    )
    left, right = st.columns(2)
    with left:
        figure = charts.latency_distribution(samples, floors)
        st.plotly_chart(charts.log_scale(figure, log), width="stretch", key="lat_distribution")
    with right:
        view = st.radio("Distribution view", ["ECDF", "Histogram"], horizontal=True, key="lat_view")
        figure = charts.latency_ecdf(samples) if view == "ECDF" else charts.latency_histogram(samples)
        st.plotly_chart(charts.log_scale(figure, log), width="stretch", key="lat_shape")
    figure = charts.latency_timeseries(samples)
    st.plotly_chart(charts.log_scale(figure, log), width="stretch", key="lat_timeseries")
    st.plotly_chart(charts.latency_breakdown(stats.breakdown(samples)), width="stretch", key="lat_breakdown")

"""AWS endpoints: each region's public DynamoDB endpoint timed from this machine, with no AWS account.

The target set "AWS public endpoints" needs no environment: the page runs ``dashboard.measure.ping`` (the same
measurement as ``mrkv-probe ping``) and keeps the run in the run store (``ping_runs``) and as a file the local
cloud can be calibrated to.
"""

import streamlit as st

from backend.local import network
from dashboard import charts, session, ui
from dashboard.measure import ping, ping_runs
from dashboard.measure.runs.store import StoreError

st.title("AWS endpoints")
st.caption(
    f"Target set: {ping_runs.ENVIRONMENT}. Each region's public DynamoDB endpoint answers GET /ping without "
    "credentials: new connections (DNS, TCP connect, TLS, first byte) then warm requests on one kept-alive "
    "connection, timed from this machine. Needs internet access, not an AWS account, nor the sidebar's environment."
)

params = ui.ping_params_ui(
    sorted(network.CITIES), sorted(network.REGIONS), session.client_location(), ping.template_setting(None)
)
settings = vars(params)
if st.button("Run", key="ping_run", type="primary"):
    if not params.regions:
        st.error("Choose at least one region.")
    else:
        bar = st.progress(0.0, text="Checking that the endpoints can be reached…")

        def progress(done: int, total: int, region: str) -> None:
            bar.progress(done / total, text=f"{region}: {done} of {total} regions")

        try:
            document = ping.run(
                params.regions,
                params.client_location,
                template=params.url_template,
                count=params.count,
                timeout_s=params.timeout_s,
                cafile=params.cafile or None,
                progress=progress,
            )
        except (ping.Unreachable, ValueError) as error:  # no network, a bad template: one line, nothing else
            bar.empty()
            for name in ("ping", "ping_document"):
                session.measurements().pop(name, None)
            st.error(str(error))
        else:
            bar.empty()
            session.store("ping", ping_runs.requests_frame(document))
            session.store("ping_document", document)
            session.store("ping_settings", settings)
            try:
                session.store(
                    "ping_run", ping_runs.record(session.run_store(), document, created_by="dashboard")
                )
                session.store("ping_file", str(ping.save(document)))
            except (StoreError, OSError) as error:
                st.warning(f"The run could not be kept: {error}")

document = session.stored("ping_document")
if document:
    if session.stored("ping_settings") != settings:
        st.warning(
            "These results were measured with other settings than the ones above: press Run to measure again."
        )
    for region, error in ping_runs.errors(document).items():
        st.warning(f"{region}: {error}")
    figures = ping_runs.percentiles_frame(document)
    model = {region: ping.builtin_ms(document["client_location"], region) for region in document["regions"]}
    log = st.toggle("Log scale", key="ping_log")
    st.plotly_chart(charts.log_scale(charts.ping_phases(figures, model), log), key="ping_chart")
    st.dataframe(figures, hide_index=True)
    kept = session.stored("ping_run")
    if kept:
        st.caption(
            f"Kept as run {kept} ({ping_runs.ENVIRONMENT}, declared location {document['client_location']}): "
            f"compare it on the Compare page (kind ping). Calibrate the local cloud to it: "
            f"`mrkv-local up --client-location ping:{session.stored('ping_file')}`."
        )

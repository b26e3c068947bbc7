"""The Streamlit side of the environment and of the measurements: caching, session state, the sidebar.

* The local cloud is started once per Streamlit server (`st.cache_resource` over
  `dashboard.measure.environment.find_or_start_local_cloud`), reused by every browser session, and stopped when
  the cache releases it or the server exits (`atexit`), so `make run` leaves no process behind. If a local cloud
  is already running (`python -m backend.local up` wrote `.local/endpoints.json` and it answers), the app uses
  that one instead of starting its own, and never stops it.
* `current()` is the environment every page uses: a target set, and in local mode the control client.
* Measurements live in the browser session (`st.session_state`), so two people on one server do not mix runs;
  the sidebar exports them as CSV or JSON (`dashboard.measure.exports`) and clears them.
* Every run a page starts is also kept in the run store with its context (`recording`, see
  `dashboard.measure.runs`), for the Compare page and the Map.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from backend.local import network
from dashboard import ui
from dashboard.measure import environment, exports
from dashboard.measure.environment import Environment
from dashboard.measure.runs.context import build_context
from dashboard.measure.runs.recorder import Recording
from dashboard.measure.runs.store import RunStore

MEASUREMENTS_KEY = "measurements"
ENVIRONMENT_KEY = "environment"
CLIENT_LOCATION_KEY = "client_location"
LOCAL_STATUS_KEY = "local_cloud_status"


# ---------------------------------------------------------------------------------------------------------------
# The environment.


@st.cache_resource(
    on_release=environment.release,
    validate=environment.still_running,
    show_spinner="Starting the local cloud (once per server)…",
)
def shared_local_cloud() -> dict:
    """Endpoints of the local cloud for the whole server: an already running one, else one started here."""
    return environment.find_or_start_local_cloud()


def _local_environment() -> Environment:
    try:
        shared = shared_local_cloud()
    except Exception as error:  # the cloud failed to start: say why instead of a traceback
        return Environment("local", error=f"The local cloud did not start: {error}")
    return environment.local_environment(shared)


def _cloudformation_environment(stack: str, regions: str) -> Environment:
    """Reads the stacks only when asked (a button): each read is a round of AWS API calls."""
    loaded = st.session_state.setdefault("cloudformation_targets", {})
    wanted = (stack, regions)
    label = "Reload stack outputs" if wanted in loaded else "Load stack outputs"
    if st.button(label, key="env_load_stack"):
        loaded[wanted] = environment.cloudformation_environment(stack, regions)
    if wanted in loaded:
        return loaded[wanted]
    return Environment(
        "cloudformation", error="Press 'Load stack outputs' to read the stacks' endpoints.", pending=True
    )


def resolve(choice: ui.EnvironmentChoice) -> Environment:
    if choice.mode == "file":
        return environment.file_environment(choice.targets_file)
    if choice.mode == "cloudformation":
        return _cloudformation_environment(choice.stack, choice.regions)
    return _local_environment()


def current() -> Environment:
    """The environment the sidebar resolved on this run (pages call this)."""
    env = st.session_state.get(ENVIRONMENT_KEY)
    return env if env is not None else Environment("local", error="The environment is not set up yet.")


def client_location() -> str:
    """The client location chosen in the sidebar (a city of the network model), else the model's default."""
    chosen = st.session_state.get(CLIENT_LOCATION_KEY)
    return chosen or network.DEFAULT_CLIENT_LOCATION


def network_mode() -> str | None:
    """The local cloud's network realism as the sidebar last read it ("realistic" / "none"), None elsewhere."""
    if not current().is_local:
        return None
    return (st.session_state.get(LOCAL_STATUS_KEY) or {}).get("network")


def explain_not_ready(env: Environment) -> None:
    """Why no request can be sent: a blue note while waiting for the user, a red error when something is wrong."""
    (st.info if env.pending else st.error)(env.error or "No targets.")


def require_environment() -> Environment | None:
    """The environment if requests can be sent, else draws why not and returns None (the page stops there)."""
    env = current()
    if not env.ready:
        explain_not_ready(env)
        return None
    return env


# ---------------------------------------------------------------------------------------------------------------
# Measurements of this browser session.


def measurements() -> dict[str, Any]:
    return st.session_state.setdefault(MEASUREMENTS_KEY, {})


def store(name: str, value: Any) -> None:
    measurements()[name] = value


def stored(name: str, default: Any = None) -> Any:
    return measurements().get(name, default)


def run_store() -> RunStore:
    """The run store (``$MRKV_RUN_STORE`` or ``.local/runs.sqlite``), shared with ``mrkv-probe``."""
    return RunStore()


def recording(kind: str, env: Environment, workload: dict, targets) -> Recording:
    """A run of this page kept in the run store with its context: ``with session.recording(…) as run: …``."""
    context = build_context(
        env.targets, workload, targets, client_location(), network_mode(), created_by="dashboard"
    )
    return Recording(run_store(), kind, context)


def append_history(row: dict) -> None:
    measurements().setdefault("history", []).append(row)


def history() -> pd.DataFrame:
    return pd.DataFrame(measurements().get("history", []))


# ---------------------------------------------------------------------------------------------------------------
# The sidebar.


def sidebar() -> Environment:
    st.header("Environment")
    choice = ui.environment_ui()
    env = resolve(choice)
    st.session_state[ENVIRONMENT_KEY] = env
    if env.error:
        explain_not_ready(env)
    elif env.targets is not None:
        st.caption(
            f"{len(env.regions)} regions from {env.targets.source}"
            + (", plus a geo-routed endpoint" if env.targets.global_url else "")
        )
    if env.ready and env.is_local:
        _local_controls(env)
    else:
        _client_location_control(None)
    return env


def _local_controls(env: Environment) -> None:
    """Client location, network realism, and per-region health and replication switches of the local cloud."""
    try:
        _draw_local_controls(env)
    except Exception as error:  # the control API not answering must not break every page
        st.error(f"The local cloud's control API did not answer: {error}")


def export_controls() -> None:
    st.header("Measurements")
    frames = exports.frames_for_export(measurements())
    if not frames:
        st.caption("Nothing measured yet.")
        return
    st.caption(", ".join(f"{name} ({len(frame)} rows)" for name, frame in frames.items()))
    # The files are built only when a button is pressed (a callable): a 100,000-sample run would otherwise
    # cost a CSV and a JSON serialisation on every rerun of every page.
    st.download_button(
        "Export CSV",
        lambda: exports.export_csv(frames),
        file_name="measurements.csv",
        mime="text/csv",
        key="export_csv",
        width="stretch",
    )
    st.download_button(
        "Export JSON",
        lambda: exports.export_json(frames),
        file_name="measurements.json",
        mime="application/json",
        key="export_json",
        width="stretch",
    )
    if st.button("Clear measurements", key="clear_measurements", width="stretch"):
        measurements().clear()
        st.rerun()


def _client_location_control(current: str | None) -> str | None:
    """The client location: in local mode it moves the local cloud's client; otherwise it is where you say you
    are, for the physical floors and the map."""
    cities = sorted(network.CITIES)
    current = current or st.session_state.get(CLIENT_LOCATION_KEY) or network.DEFAULT_CLIENT_LOCATION
    if current not in cities:
        cities.insert(0, current)
    return ui.client_location_ui(cities, current)


def _sync_widget(key: str, cloud_value) -> None:
    """Shows the cloud's state in a widget when the state changed outside this widget (another tab, the tour,
    a probe), and only then: a user's change is left alone so that the caller can apply it."""
    marker = f"_cloud_state_{key}"
    if cloud_value is None:
        return
    # A widget that was not drawn on the previous run (e.g. in another environment mode) lost its value: Streamlit
    # drops the state of widgets it did not render, and a toggle would come back at its default, "down".
    if key not in st.session_state or st.session_state.get(marker, object()) != cloud_value:
        st.session_state[key] = cloud_value
        st.session_state[marker] = cloud_value


def _draw_local_controls(env: Environment) -> None:
    """Reads the local cloud's state, draws the switches from it, and applies what the user changed.

    The widgets start from the cloud's real state (another tab, the tour or a probe may have changed it), and
    only a difference between widget and state triggers a control call, so a rerun never repeats an action.
    """
    control = env.control
    status = control.status()
    st.session_state[LOCAL_STATUS_KEY] = status
    st.header("Local cloud")
    cloud_location = status.get("client_location")
    _sync_widget(CLIENT_LOCATION_KEY, cloud_location)
    location = _client_location_control(cloud_location)
    if location and location != cloud_location:
        control.set_client_location(location)
    modes = list(network.NETWORK_MODES)
    _sync_widget("network_realism", status.get("network"))
    mode = ui.realism_ui(modes, status.get("network"))
    if mode and mode != status.get("network"):
        control.set_network(mode)
    regions_status = status.get("regions", {})
    replication = status.get("replication") or {}
    healthy = {r: not regions_status.get(r, {}).get("down", False) for r in env.regions}
    paused = {r: r in set(replication.get("paused", [])) for r in env.regions}
    st.caption("Per region: up/down (an outage of its endpoint) and replication into it paused (isolation).")
    for region in env.regions:
        _sync_widget(f"health_{region}", healthy[region])
        _sync_widget(f"pause_{region}", paused[region])
    wanted_health, wanted_pause = ui.region_switches_ui(env.regions)
    for region in env.regions:
        if wanted_health[region] != healthy[region]:
            (control.region_up if wanted_health[region] else control.region_down)(region)
        if wanted_pause[region] != paused[region]:
            (control.pause_replication if wanted_pause[region] else control.resume_replication)(region)
    if replication.get("error"):
        st.warning(f"Replicator: {replication['error']}")

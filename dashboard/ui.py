"""Widgets: each `*_ui()` function draws a group of inputs and returns their values. No measuring, no drawing of results.

Keeping widgets here lets the pages read as "ask, run the engine, draw", and gives every widget a stable key
that the AppTest and browser tests address.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.measure.targets import GLOBAL

# Limits on what a run may ask for: big enough for a meaningful comparison, small enough that a slip of the
# keyboard does not queue an hour of requests against a shared machine (or an AWS bill).
MAX_COUNT = 10_000
MAX_CONCURRENCY = 32
MAX_PROBES = 200

ENVIRONMENTS = {
    "local": "Local cloud (127.0.0.1)",
    "file": "Targets file",
    "cloudformation": "CloudFormation stacks (AWS)",
}


@dataclass(frozen=True)
class EnvironmentChoice:
    mode: str
    targets_file: str = ""
    stack: str = ""
    regions: str = ""


def environment_ui() -> EnvironmentChoice:
    mode = st.radio(
        "Environment",
        list(ENVIRONMENTS),
        format_func=ENVIRONMENTS.get,
        key="env_mode",
        help="Where requests go: the local cloud this app starts, URLs from a file, or your AWS stacks.",
    )
    if mode == "file":
        path = st.text_input(
            "Targets file (JSON or TOML)",
            key="env_targets_file",
            placeholder="targets.toml",
            help='Same shape as .local/endpoints.json: {"regions": {name: url}, "global": url}',
        )
        return EnvironmentChoice(mode, targets_file=path.strip())
    if mode == "cloudformation":
        stack = st.text_input("Stack name", value="serverless-keyvalue-dev", key="env_stack")
        regions = st.text_input(
            "Regions (comma separated)", value="us-west-2,eu-central-1", key="env_regions"
        )
        return EnvironmentChoice(mode, stack=stack.strip(), regions=regions.strip())
    return EnvironmentChoice(mode)


def _default(key: str, options: list, current) -> dict:
    """`index=` for a keyed widget only when Session State does not hold its value already (the sidebar syncs
    widgets with the local cloud's state through Session State; passing both makes Streamlit warn)."""
    if key in st.session_state:
        return {}
    return {"index": options.index(current) if current in options else 0}


def client_location_ui(cities: list[str], current: str | None) -> str | None:
    if not cities:
        return None
    return st.selectbox(
        "Client location",
        cities,
        key="client_location",
        **_default("client_location", cities, current),
        help="Where the local cloud pretends your requests come from: it sets the modelled "
        "network delay to each region and which region the geo-routed endpoint picks.",
    )


def realism_ui(levels: list[str], current: str | None) -> str | None:
    if not levels:
        return None
    return st.radio(
        "Network realism",
        levels,
        key="network_realism",
        horizontal=True,
        **_default("network_realism", levels, current),
        help="realistic: each region answers after the modelled round trip from the client location; "
        "none: raw loopback speed.",
    )


def region_switches_ui(regions: list[str]) -> tuple[dict[str, bool], dict[str, bool]]:
    """A health switch and a replication-pause switch per region (their values live in Session State)."""
    wanted_health, wanted_pause = {}, {}
    for region in regions:
        st.markdown(f"**{region}**")
        left, right = st.columns(2)
        with left:
            wanted_health[region] = st.toggle(
                "up", key=f"health_{region}", help=f"Off: {region}'s endpoint fails as in an outage (503)."
            )
        with right:
            wanted_pause[region] = st.toggle(
                "isolated",
                key=f"pause_{region}",
                help=f"On: replication into {region} is paused; writes made "
                "elsewhere queue up and arrive when it is switched off.",
            )
    return wanted_health, wanted_pause


def target_ui(names: list[str], key: str, label: str = "Target") -> str:
    def describe(name: str) -> str:
        return "global (geo-routed)" if name == GLOBAL else name

    return st.selectbox(label, names, key=key, format_func=describe)


def targets_ui(names: list[str], key: str, default_count: int = 2, label: str = "Targets") -> list[str]:
    """The first regions and the geo-routed endpoint by default (``global`` is half of the story)."""
    if key in st.session_state:
        st.session_state[key] = [n for n in st.session_state[key] if n in names]
        return st.multiselect(label, names, key=key)
    regions = [n for n in names if n != GLOBAL]
    default = regions[:default_count] + [n for n in names if n == GLOBAL]
    return st.multiselect(label, names, default=default, key=key)


# Selections that survive a change of page: Streamlit drops the state of the widgets a page did not draw, so
# app.py mirrors these keys after every run and puts them back before the next one. Those in URL_SELECTIONS
# also live in the URL's query parameters, so a bookmark brings the view back (the pages check the values:
# a target or a run that is not there is dropped). The Compare page keeps its own (?kind=…&runs=…).
KEPT_SELECTIONS = ("lat_targets", "lat_operation", "cmp_kind", "cmp_runs", "map_latency_kind", "map_run")
URL_SELECTIONS = {"lat_targets": "targets", "map_latency_kind": "map", "map_run": "map_run"}
LIST_SELECTIONS = {"lat_targets"}


def restore_selections() -> None:
    for key in KEPT_SELECTIONS:
        if key in st.session_state:
            continue
        if f"_kept_{key}" in st.session_state:
            st.session_state[key] = st.session_state[f"_kept_{key}"]
        elif key in URL_SELECTIONS and URL_SELECTIONS[key] in st.query_params:
            value = st.query_params[URL_SELECTIONS[key]]
            st.session_state[key] = [v for v in value.split(",") if v] if key in LIST_SELECTIONS else value


def remember_selections() -> None:
    for key in KEPT_SELECTIONS:
        if key in st.session_state:
            value = st.session_state[key]
            st.session_state[f"_kept_{key}"] = value
            if key in URL_SELECTIONS and value is not None:
                st.query_params[URL_SELECTIONS[key]] = (
                    ",".join(value) if key in LIST_SELECTIONS else str(value)
                )


def key_value_ui() -> tuple[str, str]:
    left, right = st.columns([1, 2])
    with left:
        key = st.text_input("Key", value="testkey", key="pg_key", max_chars=None)
    with right:
        value = st.text_input("Value", value="Just testing", key="pg_value")
    return key, value


def playground_actions_ui() -> str | None:
    """Which button was pressed: 'write', 'read', 'delete', 'read_everywhere', or None."""
    columns = st.columns(4)
    pressed = None
    for column, (action, label, kind) in zip(
        columns,
        [
            ("write", "Write", "primary"),
            ("read", "Read", "secondary"),
            ("delete", "Delete", "secondary"),
            ("read_everywhere", "Read everywhere", "secondary"),
        ],
        strict=True,
    ):
        with column:
            if st.button(label, key=f"pg_{action}", type=kind, width="stretch"):
                pressed = action
    return pressed


@dataclass(frozen=True)
class LatencyParams:
    targets: list[str]
    operation: str
    count: int
    concurrency: int
    rate: float | None = None  # requests per second over all targets; None = as fast as the workers go


OPERATIONS = {"read": "read (GET)", "write": "write (POST)", "mix": "mix (half reads, half writes)"}


def latency_params_ui(names: list[str]) -> LatencyParams:
    targets = targets_ui(names, key="lat_targets")
    columns = st.columns(4)
    with columns[0]:
        operation = st.selectbox(
            "Operation", list(OPERATIONS), format_func=OPERATIONS.get, key="lat_operation"
        )
    with columns[1]:
        count = st.number_input(
            "Requests per target", min_value=1, max_value=MAX_COUNT, value=50, step=10, key="lat_count"
        )
    with columns[2]:
        concurrency = st.number_input(
            "Concurrency", min_value=1, max_value=MAX_CONCURRENCY, value=4, key="lat_concurrency"
        )
    with columns[3]:
        rate = st.number_input(
            "Rate (req/s, 0 = no limit)",
            min_value=0.0,
            max_value=10_000.0,
            value=0.0,
            step=10.0,
            key="lat_rate",
            help="A steady rate measures latency under a known load instead of as fast as possible.",
        )
    return LatencyParams(targets, operation, int(count), int(concurrency), float(rate) or None)


@dataclass(frozen=True)
class LagParams:
    source: str
    destinations: list[str]
    probes: int
    timeout_s: float


def lag_params_ui(regions: list[str]) -> LagParams:
    columns = st.columns([1, 2, 1, 1])
    with columns[0]:
        source = st.selectbox("Source region", regions, key="lag_source")
    with columns[1]:
        others = [r for r in regions if r != source]
        destinations = st.multiselect("Destinations", others, default=others, key="lag_destinations")
    with columns[2]:
        probes = st.number_input("Probes", min_value=1, max_value=MAX_PROBES, value=10, key="lag_probes")
    with columns[3]:
        timeout_s = st.number_input(
            "Timeout (s)", min_value=1.0, max_value=60.0, value=10.0, key="lag_timeout"
        )
    return LagParams(source, destinations, int(probes), float(timeout_s))


@dataclass
class PingParams:
    client_location: str
    regions: list[str]
    count: int
    timeout_s: float
    url_template: str
    cafile: str


def ping_params_ui(cities: list[str], regions: list[str], location: str, template: str) -> PingParams:
    """What the AWS endpoints page times: where you are, which regions, how many requests, and the endpoint."""
    if location not in cities:
        cities = [location, *cities]
    left, middle, right = st.columns([2, 1, 1])
    with left:
        chosen_location = st.selectbox(
            "Where you are (declared)",
            cities,
            key="ping_location",
            **_default("ping_location", cities, location),
            help="Nothing here can tell where this machine is: the run keeps the location you declare.",
        )
    with middle:
        count = st.number_input(
            "Requests per region",
            1,
            100,
            10,
            key="ping_count",
            help="New connections, then as many warm ones.",
        )
    with right:
        timeout_s = st.number_input("Timeout (s)", 0.5, 30.0, 3.0, step=0.5, key="ping_timeout")
    chosen = st.multiselect("Regions", regions, default=regions, key="ping_regions")
    with st.expander("Endpoint"):
        url_template = st.text_input(
            "URL template",
            value=template,
            key="ping_template",
            help="Each region's URL, with {region}; default: its public DynamoDB endpoint "
            "($MRKV_PING_URL_TEMPLATE overrides it).",
        )
        cafile = st.text_input(
            "CA file", key="ping_cafile", help="CA certificates to trust (default: the system's)."
        )
    return PingParams(
        chosen_location, list(chosen), int(count), float(timeout_s), url_template.strip(), cafile.strip()
    )

"""Compare: runs kept in the run store side by side, the same table ``mrkv-probe runs compare`` prints.

The selection lives in the URL (``?kind=latency&runs=ID,ID``), so a presenter can bookmark a comparison.
"""

import tempfile
from pathlib import Path

import streamlit as st

from dashboard import charts, session
from dashboard.measure.runs import compare as comparing
from dashboard.measure.runs import share
from dashboard.measure.runs.context import location_name
from dashboard.measure.runs.recorder import KINDS
from dashboard.measure.runs.store import RunStore, StoreError

st.title("Compare runs")
st.caption(
    "Every run of the dashboard and of mrkv-probe is kept with its context. Pick two or more: the first is the "
    "baseline, the others are shown with their difference (B−A) and ratio (B/A) to it."
)
AXIS = {"lag": "lag (ms)", "conflict": "time to agree (ms)"}


def _short(run: dict) -> str:
    context = run.get("context") or {}
    profile = (context.get("network") or {}).get("profile", "?")
    return f"{location_name(context)} · {profile} · {context.get('environment', '?')}"


def _choose(store) -> tuple[str, list[str], list[dict]]:
    params = st.query_params
    if "cmp_kind" not in st.session_state and params.get("kind") in KINDS:
        st.session_state["cmp_kind"] = params["kind"]
    kind = st.selectbox("Kind of run", KINDS, key="cmp_kind")
    runs = store.list(kind=kind)
    ids = [run["id"] for run in runs]
    by_id = {run["id"]: run for run in runs}
    if "cmp_runs" not in st.session_state:
        asked = [x for x in params.get("runs", "").split(",") if x]
        wanted = [_resolve(store, x) for x in asked] or ids[:2]
        st.session_state["cmp_runs"] = [x for x in wanted if x in by_id]
    st.session_state["cmp_runs"] = [x for x in st.session_state["cmp_runs"] if x in by_id]
    chosen = st.multiselect(
        "Runs (the first is the baseline)",
        ids,
        key="cmp_runs",
        format_func=lambda x: (
            f"{by_id[x]['name'] or x} · {by_id[x]['started_at'][:16]} · {_short(by_id[x])} "
            f"· {by_id[x]['samples']:,} · {by_id[x]['status']}"
        ),
    )
    st.query_params["kind"] = kind
    st.query_params["runs"] = ",".join(chosen)
    return kind, chosen, runs


def _resolve(store, reference: str) -> str:
    try:
        return store.get(reference)["id"]
    except StoreError:
        return ""


@st.cache_data(max_entries=16, show_spinner=False)
def _comparison(path: str, chosen: tuple, targets: tuple, versions: tuple) -> comparing.Comparison:
    """The comparison, computed once per choice and state of the runs (``versions``: a run still being
    written has a new sample count on every rerun, hence a new entry)."""
    return comparing.compare(RunStore(path), list(chosen), list(targets) or None)


def _show(store, kind: str, chosen: list[str]) -> None:
    try:
        versions = tuple((run["samples"], run["status"]) for run in map(store.get, chosen))
        result = _comparison(str(store.path), tuple(chosen), (), versions)
    except (StoreError, ValueError) as error:
        st.error(str(error))
        return
    targets = list(dict.fromkeys(result.table.index.get_level_values("target")))
    picked = st.multiselect("Targets", targets, default=targets, key=f"cmp_targets_{'-'.join(chosen)}")
    if picked and picked != targets:
        result = _comparison(str(store.path), tuple(chosen), tuple(picked), versions)
    for note in result.warnings:
        st.warning(note)
    st.markdown("\n".join(f"- **{run['letter']}** = {run['label']}" for run in result.runs))
    labels = {run["letter"]: f"{run['letter']} · {_short(run)}" for run in result.runs}
    st.dataframe(
        result.table,
        width="stretch",
        key="cmp_table",
        column_config={
            column: st.column_config.NumberColumn(labels.get(column, column), format="%.2f")
            for column in result.table.columns
        },
    )
    axis = AXIS.get(kind, "latency (ms)")
    log = st.toggle("Log scale", key="cmp_log")
    left, right = st.columns(2)
    with left:
        figure = charts.compare_ecdf(result.ecdf, axis=axis)
        st.plotly_chart(charts.log_scale(figure, log), width="stretch", key="cmp_ecdf")
    with right:
        figure = charts.compare_boxes(result.boxes, axis=axis)
        st.plotly_chart(charts.log_scale(figure, log), width="stretch", key="cmp_boxes")


def _manage(store, runs: list[dict]) -> None:
    with st.expander("Manage runs: name, export, import, delete"):
        ids = [run["id"] for run in runs]
        run_id = st.selectbox("Run", ids, key="cmp_manage_run") if ids else None
        if run_id:
            left, middle, right = st.columns(3)
            with left:
                name = st.text_input("Name", key="cmp_manage_name")
                if st.button("Rename", key="cmp_rename"):
                    _act(lambda: store.rename(run_id, name.strip()))
            with middle:
                st.download_button(
                    "Export (one file)",
                    lambda: _exported(store, run_id),
                    file_name=f"{run_id}{share.SUFFIX}",
                    mime="application/zip",
                    key="cmp_export",
                )
            with right:
                if st.button("Delete", key="cmp_delete"):
                    _act(lambda: store.delete(run_id))
        upload = st.file_uploader("Import a run file", type=["zip"], key="cmp_import")
        if upload is not None and st.button("Import", key="cmp_import_go"):
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "run.zip"
                path.write_bytes(upload.getvalue())
                _act(lambda: share.import_run(store, path))


def _exported(store, run_id: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return share.export_run(store, run_id, Path(folder) / "run.zip").read_bytes()


def _act(action) -> None:
    try:
        action()
    except (StoreError, share.ShareError) as error:
        st.error(str(error))
    else:
        st.rerun()


def main() -> None:
    store = session.run_store()
    try:
        kind, chosen, runs = _choose(store)
    except StoreError as error:  # a store of another version, a file that is not one: say so, no traceback
        st.error(str(error))
        return
    if not runs:
        st.info(f"No {kind} run in the store yet: run one on its page, or with mrkv-probe {kind}.")
    elif len(chosen) < 2:
        st.info("Pick at least two runs to compare.")
    else:
        _show(store, kind, chosen)
    _manage(store, runs)


main()

"""Playground: write, read and delete a key in any region (or through the geo-routed endpoint), then read it
everywhere to see replication at a glance. The walkthrough's curl commands, with latency and serving region."""

import pandas as pd
import streamlit as st

from dashboard import charts, session, ui
from dashboard.measure.targets import GLOBAL, TargetError
from dashboard.measure.timed_client import TimedClient

st.title("Playground")
st.caption("The walkthrough's `curl` commands: write a key in one region, read it back from any region.")

# Rows of the request history shown on this page (the export has every sample column).
HISTORY_COLUMNS = ["time", "operation", "target", "key", "status", "latency_ms", "served_region", "answer"]


def timed(env, target_name: str, operation: str, key: str, value: str):
    """One request through the engine's timed client; returns its TimedResult (never raises for HTTP trouble)."""
    with TimedClient(target_name, env.targets.url(target_name), timeout_s=10.0) as client:
        if operation == "write":
            return client.write(key, value)
        if operation == "delete":
            return client.delete(key)
        return client.read(key)


def remember(result) -> None:
    row = result.row
    session.append_history(
        {
            "time": pd.Timestamp.fromtimestamp(row["timestamp"], tz="UTC").strftime("%H:%M:%S.%f")[:-3],
            "operation": row["operation"],
            "target": row["target"],
            "key": row["key"],
            "status": row["status"],
            "latency_ms": round(row["latency_ms"], 1),
            "served_region": row["served_region"],
            "answer": row["error"] or (row["value"] if row["operation"] != "delete" else "deleted"),
        }
    )


def send(env, action: str, target: str, key: str, value: str) -> None:
    if not key:
        st.error("Enter a key: the key is the URL path, it cannot be empty.")
        return
    try:
        result = timed(env, target, action, key, value)
    except TargetError as error:
        st.error(str(error))
        return
    remember(result)
    session.store("playground_last", {"result": result.row, "body": result.body})


def draw_last(last: dict) -> None:
    row, body = last["result"], last["body"]
    left, right = st.columns([2, 1])
    with left:
        st.subheader(f"{row['operation'].upper()} {row['target']} → HTTP {row['status'] or 'no answer'}")
        if body is not None:
            st.json(body)
        if row["status"] == 404:
            # A clean answer, not a failure: the key is not (or not yet) in this region.
            message = body.get("error") if isinstance(body, dict) else None
            st.warning(f"Not found in {row['target']}: {message or 'no such key'}")
        elif row["error"]:
            st.error(row["error"])
    with right:
        st.metric("Latency", f"{row['latency_ms']:.1f} ms")
        st.metric("Served by", row["served_region"] or "—")
        if row["target"] == GLOBAL:
            st.caption("The geo-routed endpoint picked the region nearest to the client location.")


def read_everywhere(env, key: str, value: str) -> None:
    if not key:
        st.error("Enter a key to read everywhere.")
        return
    rows = []
    for region in env.regions:
        result = timed(env, region, "read", key, value)
        remember(result)
        body = result.body if isinstance(result.body, dict) else {}
        rows.append(
            {
                "region": region,
                "status": result.row["status"],
                "value": body.get("value", "—" if result.row["status"] == 404 else result.row["error"]),
                "writeRegion": body.get("writeRegion", ""),
                "readRegion": body.get("readRegion", ""),
                "writtenAt": body.get("writtenAt"),
                "latency_ms": round(result.row["latency_ms"], 1),
            }
        )
    session.store("read_everywhere", {"key": key, "rows": rows})


def explain_everywhere(table: pd.DataFrame) -> None:
    """What the regions' answers say: all the same, not replicated yet, different values, or no answer."""
    answered = table[table["status"] == 200]
    missing = table[table["status"] == 404]
    failed = table[~table["status"].isin([200, 404])]
    values = {str(v) for v in answered["value"]}
    if not failed.empty:
        st.error(
            "No answer from "
            + "; ".join(f"{r.region} (HTTP {r.status or 'none'}: {r.value})" for r in failed.itertuples())
        )
    if len(answered) == len(table) and len(values) == 1:
        st.success(f"Every region answers the same value: {values.pop()!r}")
    elif not missing.empty and not answered.empty:
        st.info(
            f"Not in {', '.join(missing['region'])} yet: replication is asynchronous (or paused into that "
            "region). Read again in a moment."
        )
    elif len(values) > 1:
        st.info("The regions answer different values for now: a newer write has not reached all of them.")


def draw_everywhere(everywhere: dict) -> None:
    st.subheader(f"Read everywhere: '{everywhere['key']}'")
    table = pd.DataFrame(everywhere["rows"])
    if "writtenAt" in table:
        table["writtenAt"] = pd.to_datetime(table["writtenAt"], unit="ms", utc=True, errors="coerce")
    explain_everywhere(table)
    st.dataframe(table, hide_index=True, width="stretch", key="read_everywhere_table")
    st.plotly_chart(charts.region_latency_bars(table), width="stretch", key="read_everywhere_chart")


def main() -> None:
    env = session.require_environment()
    if env is None:
        return
    target = ui.target_ui(env.targets.names(), key="pg_target")
    key, value = ui.key_value_ui()
    action = ui.playground_actions_ui()

    if action in ("write", "read", "delete"):
        send(env, action, target, key, value)
    last = session.stored("playground_last")
    if last:
        draw_last(last)

    if action == "read_everywhere":
        read_everywhere(env, key, value)
    everywhere = session.stored("read_everywhere")
    if everywhere:
        draw_everywhere(everywhere)

    history = session.history()
    if not history.empty:
        st.subheader("Request history (this session)")
        st.dataframe(
            history.iloc[::-1][HISTORY_COLUMNS], hide_index=True, width="stretch", key="history_table"
        )


main()

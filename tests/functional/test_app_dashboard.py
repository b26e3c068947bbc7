"""Each dashboard page's main flow under AppTest, against a real local cloud started by the app itself.

The app starts the local cloud through `st.cache_resource` exactly as `make run` does; the module's finalizer
releases the cache, whose on_release stops the cloud. The tests run from a scratch directory so the app neither
reuses nor overwrites a developer's `.local/endpoints.json`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from backend.local.control import ControlClient
from dashboard.measure import stats
from dashboard.measure.runs.store import RunStore

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
REGIONS = ["us-west-2", "eu-central-1"]

# The app starts the local cloud's processes on 127.0.0.1, hence e2e as well as AppTest.
pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(scope="module", autouse=True)
def scratch_directory(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.chdir(tmp_path_factory.mktemp("app"))
    mp.delenv("MRKV_ENDPOINTS_FILE", raising=False)
    yield
    st.cache_resource.clear()  # on_release stops the local cloud the app started
    mp.undo()


def new_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception[0].message
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception[0].message
    return at


def charts_of(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.main if getattr(el, "type", "") == "plotly_chart"]


def points(array) -> int:
    if isinstance(array, list):
        return len(array)
    import base64

    import numpy as np

    return len(base64.b64decode(array["bdata"])) // np.dtype(array["dtype"]).itemsize


def values(array) -> list:
    """A trace's x or y as a list, whether plotly sent it as a list or base64-encoded."""
    if isinstance(array, list):
        return array
    import base64

    import numpy as np

    return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()


def until_finished(at: AppTest, name: str, timeout_s: float = 120.0) -> None:
    """A long run goes on in its thread (its live panel is a run_every fragment, which AppTest does not tick):
    rerun the page until the run is over and its results are drawn."""
    deadline = time.monotonic() + timeout_s
    while f"live_run_{name}" in at.session_state:
        assert time.monotonic() < deadline, f"the {name} run did not finish in {timeout_s} s"
        time.sleep(0.3)
        at.run()


def no_errors(at: AppTest) -> None:
    assert not at.exception, at.exception[0].message
    assert not at.error, [e.value for e in at.error]


def test_write_in_us_west_2_then_read_everywhere_shows_it_everywhere():
    at = new_app()
    no_errors(at)
    key = f"apptest-{time.time_ns()}"
    at.selectbox(key="pg_target").set_value("us-west-2")
    at.text_input(key="pg_key").input(key)
    at.text_input(key="pg_value").input("It worked")
    at.button(key="pg_write").click().run()
    no_errors(at)
    assert any("WRITE us-west-2 → HTTP 200" in h.value for h in at.subheader)
    deadline = time.monotonic() + 10
    while True:
        at.button(key="pg_read_everywhere").click().run()
        no_errors(at)
        if at.success:
            break
        assert time.monotonic() < deadline, "the write never reached every region"
        time.sleep(0.2)
    assert "It worked" in at.success[0].value
    table = at.dataframe[0].value
    assert sorted(table["region"]) == sorted(REGIONS)
    assert set(table["value"]) == {"It worked"}
    assert set(table["writeRegion"]) == {"us-west-2"}
    assert dict(zip(table["region"], table["readRegion"], strict=True)) == {r: r for r in REGIONS}
    history = at.dataframe[1].value
    assert len(history) >= 1 + len(REGIONS)

    at.button(key="pg_delete").click().run()
    no_errors(at)
    assert at.json[0].value and json.loads(at.json[0].value)["deleted"] is True
    at.button(key="pg_read").click().run()
    assert not at.exception
    assert any("HTTP 404" in h.value for h in at.subheader)
    assert at.warning, "a read of a deleted key says it is not there"


def test_latency_run_over_two_regions_renders_table_and_charts_with_the_right_counts():
    at = new_app("views/latency.py")
    at.multiselect(key="lat_targets").set_value(REGIONS)
    at.number_input(key="lat_count").set_value(50)
    at.button(key="lat_run").click().run()
    no_errors(at)
    summary = at.dataframe[0].value
    assert list(summary.index) == REGIONS
    assert list(summary["count"]) == [50, 50]
    assert list(summary["errors"]) == [0, 0]
    assert (summary["p50"] > 0).all()
    # the network model's figures next to the measured ones (the app's cloud runs network realistic)
    assert (summary["model p50"] < summary["model p90"]).all()
    assert (summary["model p90"] < summary["model p99"]).all()
    figures = charts_of(at)
    assert len(figures) == 4
    distribution, ecdf, series, breakdown = figures
    assert [t["name"] for t in distribution["data"] if t["type"] == "box"] == REGIONS
    floors = [t for t in distribution["data"] if t.get("name") == "physical floor"]
    assert floors and points(floors[0]["y"]) == 2
    assert [t["name"] for t in ecdf["data"]] == REGIONS
    assert sum(points(t["y"]) for t in series["data"]) == 100
    assert [t["name"] for t in breakdown["data"]] == ["network", "function", "DynamoDB"]
    # Honest axes: latency starts at zero, or is logarithmic when the toggle says so.
    assert series["layout"]["yaxis"]["rangemode"] == "tozero"
    at.toggle(key="lat_log").set_value(True).run()
    assert charts_of(at)[2]["layout"]["yaxis"]["type"] == "log"
    # Other settings than the results': the results are marked stale, not passed off as current.
    assert not at.warning
    at.number_input(key="lat_count").set_value(60).run()
    assert any("other settings" in w.value for w in at.warning)
    # The histogram view counts every sample too.
    at.radio(key="lat_view").set_value("Histogram").run()
    histogram = charts_of(at)[1]
    assert sum(sum(t["y"]) if isinstance(t["y"], list) else 0 for t in histogram["data"]) in (0, 100)


def test_replication_run_renders_lag_per_pair():
    at = new_app("views/replication.py")
    at.selectbox(key="lag_source").set_value("us-west-2").run()
    at.multiselect(key="lag_destinations").set_value(["eu-central-1"])
    at.number_input(key="lag_probes").set_value(5)
    at.button(key="lag_run").click().run()
    until_finished(at, "lag")
    no_errors(at)
    summary = at.dataframe[0].value
    assert list(summary["pair"]) == ["us-west-2 → eu-central-1"]
    assert int(summary["seen"].iloc[0]) == 5
    assert summary["p50"].iloc[0] > 0
    distribution, series = charts_of(at)
    boxes = [t for t in distribution["data"] if t["type"] == "box"]
    assert [b["name"] for b in boxes] == ["us-west-2 → eu-central-1"]
    assert points(boxes[0]["y"]) == 5
    assert [t["name"] for t in series["data"]] == ["us-west-2 → eu-central-1"]
    pending = at.dataframe[1].value  # the replicator's PendingReplicationCount per pair, drawn under the charts
    assert list(pending.columns) == ["pair", "PendingReplicationCount"]
    assert set(pending["pair"]) == {"us-west-2 → eu-central-1", "eu-central-1 → us-west-2"}
    assert all(count >= 0 for count in pending["PendingReplicationCount"])


def test_conflict_demo_shows_one_winner_everywhere():
    at = new_app("views/resilience.py")
    at.multiselect(key="conflict_regions").set_value(REGIONS)
    at.number_input(key="conflict_trials").set_value(2)
    at.button(key="conflict_run").click().run()
    until_finished(at, "conflict")
    no_errors(at)
    assert at.success and "One winner everywhere in 2 of 2" in at.success[0].value
    table = at.table[0].value
    assert len(table) == 2 and table["follows_lww"].all()
    assert set(table["winner_region"]) <= set(REGIONS)
    timeline = charts_of(at)[0]
    assert sorted(t["name"] for t in timeline["data"]) == sorted(REGIONS)
    # The last observation of every region is the same value: they agree.
    assert len({t["y"][-1] for t in timeline["data"]}) == 1
    assert "Last writer wins" in at.info[0].value
    # The agreement the text names is the mark on the chart and the table's converge_ms, in whole ms.
    shown = int(table["converge_ms"].iloc[-1])
    assert f"agreed {shown} ms after the writes" in at.info[0].value
    assert timeline["layout"]["annotations"][-1]["text"] == f"agreed {shown} ms"
    assert max(max(values(t["x"])) for t in timeline["data"]) == shown


def test_guided_tour_runs_from_first_step_to_last():
    at = new_app("views/guided_tour.py")
    no_errors(at)
    at.button(key="tour_run_all").click().run(timeout=240)
    until_finished(at, "tour", timeout_s=240)
    no_errors(at)
    assert len(at.success) == 5, [s.value for s in at.success]
    assert len(charts_of(at)) == 5
    # The failover step says its figures once: the sentence, the table and the chart marks agree.
    figures = at.session_state["tour_results"]["failover"].extra["figures"]
    table = at.table[-1].value["value"].to_dict()
    assert table["Failover"] == f"{figures['failover_s']:.1f} s" and table["Failover"] in at.success[-1].value
    marks = [s["x0"] for s in charts_of(at)[-1]["layout"]["shapes"]]
    assert marks == [figures[k] for k in ("outage_start_s", "moved_away_s", "recovery_s", "moved_back_s")]
    # The story can be told again: step 1 starts over with a fresh key, missing in the other region again.
    at.button(key="tour_run_isolated").click().run()
    no_errors(at)
    assert "answers HTTP 404" in at.success[0].value


def test_map_page_draws_the_regions_offline():
    at = new_app("views/world_map.py")
    no_errors(at)
    chart = [el for el in at.main if getattr(el, "type", "") == "plotly_chart"][0]
    assert json.loads(chart.proto.config)["topojsonURL"] == "/app/static/"
    names = [t.get("name") for t in json.loads(chart.proto.spec)["data"]]
    assert any(n and n.startswith("client: ") for n in names)
    assert any(n and n.endswith("(nearest)") for n in names)


def test_bad_input_gives_clear_messages_not_tracebacks(tmp_path):
    at = new_app()
    at.text_input(key="pg_key").input("").run()
    at.button(key="pg_write").click().run()
    assert not at.exception
    assert any("Enter a key" in e.value for e in at.error)

    at.text_input(key="pg_key").input("big").run()
    at.text_input(key="pg_value").input("x" * 450_000).run()
    at.button(key="pg_write").click().run()
    assert not at.exception
    assert any("400000 bytes" in e.value or "400 KB" in e.value for e in at.error)

    at.text_input(key="pg_key").input("_health").run()
    at.button(key="pg_write").click().run()
    assert not at.exception and at.error

    at.radio(key="env_mode").set_value("file").run()
    at.text_input(key="env_targets_file").input(str(tmp_path / "missing.json")).run()
    assert not at.exception
    assert any("does not exist" in e.value for e in at.error)

    malformed = tmp_path / "bad.json"
    malformed.write_text("{not json")
    at.text_input(key="env_targets_file").input(str(malformed)).run()
    assert any("not valid JSON" in e.value for e in at.error)

    # A target that does not answer: a closed loopback port.
    silent = tmp_path / "silent.json"
    silent.write_text(json.dumps({"regions": {"us-west-2": "http://127.0.0.1:9/dev"}}))
    at.text_input(key="env_targets_file").input(str(silent)).run()
    at.text_input(key="pg_key").input("k").run()
    at.button(key="pg_read").click().run()
    assert not at.exception
    assert any("connection refused" in e.value or "no answer" in e.value for e in at.error)
    at.radio(key="env_mode").set_value("local").run()
    assert not at.exception
    # Coming back to local mode shows the cloud as it is and changes nothing (every region still up).
    assert all(at.toggle(key=f"health_{region}").value for region in REGIONS)
    status = ControlClient(at.session_state["environment"].targets.control_url).status()
    assert not any(status["regions"][region]["down"] for region in REGIONS)


def test_region_down_switch_shows_the_outage_in_the_playground():
    at = new_app()
    at.toggle(key="health_eu-central-1").set_value(False).run()
    try:
        no_errors(at)
        at.selectbox(key="pg_target").set_value("eu-central-1")
        at.button(key="pg_read").click().run()
        assert not at.exception
        assert at.error, "a read in a region that is down must show an error"
        at.button(key="pg_read_everywhere").click().run()
        assert not at.exception
        assert any(e.value.startswith("No answer from eu-central-1 (HTTP 503") for e in at.error)
    finally:
        at.toggle(key="health_eu-central-1").set_value(True).run()
    assert not at.exception


def test_failover_demo_moves_the_global_endpoint_and_back():
    at = new_app("views/resilience.py")
    at.number_input(key="failover_duration").set_value(8.0)
    at.number_input(key="failover_down_at").set_value(1.0)
    at.number_input(key="failover_up_at").set_value(4.0)
    at.button(key="failover_run").click().run(timeout=120)
    until_finished(at, "failover")
    no_errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Region taken down"] in REGIONS
    summary = at.session_state["measurements"]["failover_summary"]
    assert metrics["Failover"] == f"{summary['failover_s']:.1f} s"
    assert metrics["Failback"] == f"{summary['failback_s']:.1f} s"
    timeline = charts_of(at)[-1]
    served = {t["name"] for t in timeline["data"]}
    assert set(REGIONS) <= served, summary  # the nearest before and after, the other one during the outage
    # The four marks sit at the figures' values and say them: the chart, the metrics and the table agree.
    marks = [
        (s["x0"], a["text"])
        for s, a in zip(timeline["layout"]["shapes"], timeline["layout"]["annotations"], strict=True)
    ]
    instants = ("outage_start_s", "moved_away_s", "recovery_s", "moved_back_s")
    assert [x for x, _ in marks] == [summary[k] for k in instants]
    assert all(text.endswith(f"{x:.1f} s") for x, text in marks)
    table = at.table[-1].value["value"].to_dict()
    assert (
        table["Failover"] == metrics["Failover"] and table["Moved away"] == f"{summary['moved_away_s']:.1f} s"
    )


def test_a_dead_local_cloud_is_replaced_on_the_next_run():
    import os
    import signal

    from dashboard import session

    at = new_app()
    before = session.shared_local_cloud()
    region_process = next(iter(before["owned"].cloud.children.values())).popen
    os.kill(region_process.pid, signal.SIGKILL)
    region_process.wait(timeout=10)
    at.run()
    no_errors(at)
    after = session.shared_local_cloud()
    assert after["owned"] is not before["owned"]
    assert after["endpoints"]["regions"] != before["endpoints"]["regions"]
    assert not before["owned"].cloud.children  # the rest of the dead cloud was stopped, not orphaned


def test_network_realism_off_makes_requests_loopback_fast_and_says_so():
    at = new_app("views/latency.py")
    at.radio(key="network_realism").set_value("none").run()
    try:
        no_errors(at)
        at.multiselect(key="lat_targets").set_value(["eu-central-1"])
        at.number_input(key="lat_count").set_value(20)
        at.button(key="lat_run").click().run()
        no_errors(at)
        summary = at.dataframe[0].value
        # Seattle -> Frankfurt is 80+ ms at the speed of light; without the model it is a loopback round trip.
        assert summary.loc["eu-central-1", "p50"] < summary.loc["eu-central-1", "physical floor"]
        assert any("Network realism is off" in i.value for i in at.info)
    finally:
        at.radio(key="network_realism").set_value("realistic").run()
    assert not at.exception


def test_cloudformation_mode_waits_for_the_user_before_calling_aws():
    at = new_app()
    at.radio(key="env_mode").set_value("cloudformation").run()
    assert not at.exception and not at.error
    assert any("Load stack outputs" in i.value for i in at.info)
    assert at.button(key="env_load_stack").label == "Load stack outputs"


def test_a_running_local_cloud_is_reused_and_never_stopped_by_the_app():
    from backend.local.cloud import LocalCloud

    st.cache_resource.clear()  # stops the app's own cloud: the next run looks for a running one first
    external = LocalCloud(endpoints_file=".local/endpoints.json").start()
    try:
        at = new_app()
        no_errors(at)
        env = at.session_state["environment"]
        assert "endpoints file" in env.targets.source
        assert env.targets.regions == external.endpoints["regions"]
        st.cache_resource.clear()  # releasing the app's handle must leave the external cloud running
        assert all(child.popen.poll() is None for child in external.children.values())
        at = new_app()
        assert "endpoints file" in at.session_state["environment"].targets.source
    finally:
        external.stop()
    # Its endpoints file went with it: on the next run the app notices and starts a cloud of its own.
    at.run()
    no_errors(at)
    assert at.session_state["environment"].targets.source == "local cloud"


def test_a_paced_mixed_run_sends_reads_and_writes_at_the_asked_rate():
    at = new_app("views/latency.py")
    at.multiselect(key="lat_targets").set_value(["us-west-2"])
    at.selectbox(key="lat_operation").set_value("mix")
    at.number_input(key="lat_count").set_value(30)
    at.number_input(key="lat_rate").set_value(50.0)
    at.button(key="lat_run").click().run()
    no_errors(at)
    samples = at.session_state["measurements"]["latency"]
    assert len(samples) == 30 and set(samples["operation"]) == {"read", "write"}
    # 30 requests at 50/s are scheduled over 0.58 s: the last one cannot start before that.
    assert samples["elapsed_s"].max() - samples["elapsed_s"].min() >= 0.5


def test_map_lines_can_show_the_measured_latency_of_the_last_run():
    at = new_app("views/latency.py")
    at.multiselect(key="lat_targets").set_value(REGIONS)
    at.number_input(key="lat_count").set_value(10)
    at.button(key="lat_run").click().run()
    no_errors(at)
    # The table shows p50 rounded to 0.1 ms, and 130.54 is "130.5" there but "131 ms" on the map: compare with the
    # unrounded p50 of the same samples.
    p50 = stats.summarize(at.session_state["measurements"]["latency"])["p50"]
    assert (at.dataframe[0].value["p50"] == p50.round(1)).all()
    # The run is kept in the run store with the local cloud's context (the map reads it from there).
    (run,) = RunStore().list(kind="latency")
    assert run["status"] == "complete" and run["samples"] == 20
    context = run["context"]
    assert context["created_by"] == "dashboard" and context["environment"] == "local"
    assert context["client_location"]["name"] == "Seattle" and context["targets"] == REGIONS
    at.switch_page("views/world_map.py").run()
    at.radio(key="map_latency_kind").set_value("measured").run()  # the run just made, from the same place
    no_errors(at)
    figure = charts_of(at)[0]
    labels = sorted(
        t["text"][0] for t in figure["data"] if t.get("mode") == "text" and t["text"][0].endswith(" ms")
    )
    assert labels == sorted(f"{p50[region]:.0f} ms" for region in REGIONS)
    assert "measured p50" in figure["layout"]["title"]["text"]


def test_presenter_mode_from_the_url_and_back():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["presenter"] = "1"
    at.run()
    no_errors(at)
    assert at.toggle(key="presenter_mode").value is True
    assert any("stSidebar" in m.value and "display: none" in m.value for m in at.markdown)
    at.button(key="presenter_exit").click().run()
    assert at.toggle(key="presenter_mode").value is False
    assert not any("stSidebar" in m.value for m in at.markdown)

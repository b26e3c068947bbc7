"""The Compare page and the Map's measured mode under AppTest, over runs in the test's run store. The app is
pointed at an endpoints file without a control API, so no local cloud is started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from run_store_support import endpoints_file, lag_run, latency_run
from streamlit.testing.v1 import AppTest

from backend.local import network

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture(autouse=True)
def app_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MRKV_ENDPOINTS_FILE", endpoints_file(tmp_path))
    yield
    st.cache_resource.clear()


def open_page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception[0].message
    return at


def charts_of(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.main if getattr(el, "type", "") == "plotly_chart"]


def cli_compare(*runs) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.measure", "runs", "compare", *runs, "--json"],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_two_client_locations_warn_above_the_numbers_the_cli_prints_too():
    frankfurt = latency_run(
        {"us-west-2": 160.0, "eu-central-1": 12.0, "global": 12.5}, "Frankfurt", name="fra"
    )
    sydney = latency_run({"us-west-2": 140.0, "eu-central-1": 250.0, "global": 140.5}, "Sydney", name="syd")
    at = open_page("views/compare.py", {"kind": "latency", "runs": f"{frankfurt},{sydney}"})
    assert at.multiselect(key="cmp_runs").value == [frankfurt, sydney]
    kinds = [getattr(el, "type", type(el).__name__) for el in at.main]
    warning = next(w.value for w in at.warning if "client locations differ" in w.value)
    assert "Frankfurt" in warning and "Sydney" in warning
    assert kinds.index("warning") < kinds.index("dataframe"), kinds  # the warning comes above the numbers
    shown = at.dataframe[0].value
    assert shown.loc[("eu-central-1", "p50"), "B/A"] == pytest.approx(250 / 12, rel=0.05)
    # mrkv-probe runs compare prints the same table, the same figures
    cli = cli_compare("fra", "syd")
    assert len(cli["rows"]) == len(shown)
    for row in cli["rows"]:
        for column in ("A", "B", "B−A", "B/A"):
            page = shown.loc[(row["target"], row["figure"]), column]
            assert (row[column] is None and page != page) or page == row[column]
    assert cli["warnings"] == [w.value for w in at.warning if w.value in cli["warnings"]]
    ecdf, boxes = charts_of(at)
    assert {t["name"] for t in ecdf["data"]} >= {"A · eu-central-1", "B · eu-central-1"}
    assert [t["name"] for t in boxes["data"]] == ["run A", "run B"]


def test_same_place_same_network_no_warning_and_the_choice_survives_a_page_change():
    first = latency_run({"us-west-2": 20.0, "eu-central-1": 150.0}, "Seattle", seed=1)
    second = latency_run({"us-west-2": 25.0, "eu-central-1": 151.0}, "Seattle", seed=2)
    at = open_page("views/compare.py")
    assert sorted(at.multiselect(key="cmp_runs").value) == sorted(
        [first, second]
    )  # the two newest by default
    assert not [w for w in at.warning if "differ" in w.value]
    at.multiselect(key="cmp_runs").set_value([second, first]).run()
    at.switch_page("views/latency.py").run()
    at.switch_page("views/compare.py").run()
    assert at.multiselect(key="cmp_runs").value == [second, first]
    assert at.query_params["runs"] == [f"{second},{first}"] or at.query_params["runs"] == f"{second},{first}"


def map_labels(at: AppTest) -> tuple[dict[str, dict], str]:
    """The map's traces by name (regions, "client: CITY") and its title."""
    figure = charts_of(at)[0]
    return {t["name"]: t for t in figure["data"] if t.get("name")}, figure["layout"]["title"]["text"]


def test_the_map_in_measured_mode_never_draws_a_run_from_another_location():
    # The case: a run measured elsewhere (eu-central-1 at 9.8 ms, far under its 164.8 ms floor from Seattle).
    # Figures no model from Seattle gives (the measured model puts Seattle -> us-west-2 at ~10 ms), so a label
    # showing them can only have come from the other location's run.
    sydney = latency_run({"us-west-2": 240.0, "eu-central-1": 3.2}, "Sydney", name="from-sydney")
    at = open_page("views/world_map.py")
    at.selectbox(key="client_location").set_value("Seattle").run()
    at.radio(key="map_latency_kind").set_value("measured").run()
    assert not at.exception
    assert any("No latency run was measured from Seattle" in i.value for i in at.info)
    traces, title = map_labels(at)
    assert "modelled" in title and "client: Seattle" in traces
    texts = [
        t["text"][0]
        for t in charts_of(at)[0]["data"]
        if t.get("mode") == "text" and t["text"][0].endswith(" ms")
    ]
    assert "3 ms" not in texts and "240 ms" not in texts

    seattle = latency_run({"us-west-2": 21.0, "eu-central-1": 151.0}, "Seattle", name="from-seattle")
    at.run()
    offered = at.selectbox(key="map_run")
    assert offered.value == seattle and len(offered.options) == 1  # the Sydney run is not offered
    assert offered.options[0].startswith("from-seattle · Seattle · ")
    traces, title = map_labels(at)
    assert "measured p50" in title and "client: Seattle" in traces
    texts = sorted(
        t["text"][0]
        for t in charts_of(at)[0]["data"]
        if t.get("mode") == "text" and t["text"][0].endswith(" ms")
    )
    assert texts == ["151 ms", "21 ms"]
    assert at.success[0].value == "Nearest region from Seattle: **us-west-2**"

    # Asked for explicitly, the Sydney run is drawn from Sydney, with the floor warning.
    at.checkbox(key="map_any_location").check().run()
    at.selectbox(key="map_run").set_value(sydney).run()
    traces, title = map_labels(at)
    assert "Sydney" in title and "client: Sydney" in traces and "client: Seattle" not in traces
    client = traces["client: Sydney"]
    assert (client["lat"][0], client["lon"][0]) == (
        network.CITIES["Sydney"].lat,
        network.CITIES["Sydney"].lon,
    )
    assert any("Under the physical floor" in w.value and "eu-central-1 3.2 ms" in w.value for w in at.warning)


def test_the_region_matrix_shows_modelled_round_trips_then_a_lag_runs_percentile():
    at = open_page("views/world_map.py")
    heat = charts_of(at)[-1]["data"][0]
    assert heat["type"] == "heatmap" and heat["x"] == ["us-west-2", "eu-central-1"]
    assert heat["text"][0][1] == f"{network.region_rtt_ms('us-west-2', 'eu-central-1'):.0f}"
    at.radio(key="map_matrix_kind").set_value("replication lag (a measured run)").run()
    assert any("No lag run in the store yet" in i.value for i in at.info)
    lag_run(
        {("us-west-2", "eu-central-1"): [400.0, 420.0, 440.0, 900.0], ("eu-central-1", "us-west-2"): [380.0]}
    )
    at.run()
    at.selectbox(key="map_lag_percentile").set_value("p50").run()
    heat = charts_of(at)[-1]["data"][0]
    assert heat["text"] == [["", "430"], ["380", ""]]
    assert "Replication lag p50" in charts_of(at)[-1]["layout"]["title"]["text"]


def test_a_bookmarked_url_brings_the_latency_targets_and_the_map_mode_back():
    at = open_page("views/latency.py", {"targets": "global,us-west-2,mars-1", "map": "measured"})
    assert at.multiselect(key="lat_targets").value == ["global", "us-west-2"]  # mars-1 is not a target here
    at.multiselect(key="lat_targets").set_value(["eu-central-1"]).run()
    assert at.query_params["targets"] in ("eu-central-1", ["eu-central-1"])
    at.switch_page("views/world_map.py").run()
    assert at.radio(key="map_latency_kind").value == "measured"

"""The AWS endpoints page under AppTest: the target set "AWS public endpoints" timed through the page, with the URL
template pointed at the ping stand-in (HTTPS on 127.0.0.1, a test certificate, a delay injected per region), and
at a host that does not resolve. The app is pointed at an endpoints file without a control API, so no local cloud
is started."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from ping_stand_in import PingStandIn
from run_store_support import endpoints_file
from streamlit.testing.v1 import AppTest

from dashboard.measure.runs.store import RunStore

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
DELAYS_MS = {"us-east-1": 60.0, "eu-west-1": 120.0}
TLS_DELAY_MS = 40.0

pytestmark = pytest.mark.e2e  # the stand-in is a process on 127.0.0.1


@pytest.fixture(autouse=True)
def app_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MRKV_ENDPOINTS_FILE", endpoints_file(tmp_path))
    yield
    st.cache_resource.clear()


def endpoints_page(template: str, regions: list[str], cafile: str = "", count: int = 5) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/aws_endpoints.py").run()
    assert not at.exception, at.exception[0].message
    at.selectbox(key="ping_location").set_value("Frankfurt")
    at.multiselect(key="ping_regions").set_value(regions)
    at.number_input(key="ping_count").set_value(count)
    at.text_input(key="ping_template").input(template)
    at.text_input(key="ping_cafile").input(cafile)
    return at.run()


def bars(at: AppTest) -> dict[str, dict[str, float]]:
    """{phase: {region: bar height (p50)}} of the page's chart."""
    specs = [json.loads(el.proto.spec) for el in at.main if getattr(el, "type", "") == "plotly_chart"]
    assert len(specs) == 1, specs
    return {
        trace["name"]: dict(zip(trace["x"], values(trace["y"]), strict=True))
        for trace in specs[0]["data"]
        if trace["type"] == "bar"
    }


def values(array) -> list:
    """A trace's y as a list, whether plotly sent it as a list or base64-encoded."""
    if isinstance(array, list):
        return array
    return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()


def within(measured: float, expected: float, fraction: float = 0.10) -> bool:
    return abs(measured - expected) <= fraction * expected


def test_the_page_times_the_stand_in_draws_each_phase_and_keeps_the_run(tmp_path, isolated_run_store):
    with PingStandIn(tmp_path, DELAYS_MS, tls_delay_ms=TLS_DELAY_MS) as stand_in:
        at = endpoints_page(stand_in.template, list(DELAYS_MS), cafile=str(stand_in.cafile))
        at.button(key="ping_run").click().run()
    assert not at.exception, at.exception[0].message
    assert not at.error, [e.value for e in at.error]
    drawn = bars(at)
    for region, delay in DELAYS_MS.items():
        # one round trip + the endpoint's time: the injected delay, on new and warm connections alike
        assert within(drawn["warm: first byte"][region], delay), drawn
        assert within(drawn["new: first byte"][region], delay), drawn
        assert within(drawn["new: TLS handshake"][region], TLS_DELAY_MS), drawn
        assert drawn["new: TCP connect"][region] < 5 and drawn["new: DNS"][region] < 5, drawn
    (table,) = [frame.value for frame in at.dataframe]
    assert set(table["region"]) == set(DELAYS_MS) and set(table["connection"]) == {"new", "warm"}

    (run,) = RunStore(isolated_run_store).list(kind="ping")
    assert run["status"] == "complete" and run["environment"] == "AWS public endpoints"
    assert run["client_location"] == "Frankfurt" and run["context"]["client_location"]["declared"]
    assert run["context"]["workload"]["url_template"] == stand_in.template
    assert run["samples"] == len(DELAYS_MS) * 2 * 5  # five new and five warm requests per region
    assert any(run["id"] in caption.value for caption in at.caption)


def test_an_unresolvable_host_is_one_clear_line_within_the_timeout():
    at = endpoints_page("https://dynamodb.{region}.unresolvable.invalid/ping", ["us-east-1", "eu-west-1"])
    started = time.monotonic()
    at.button(key="ping_run").click().run()
    elapsed = time.monotonic() - started
    assert not at.exception, at.exception[0].message
    (error,) = [e.value for e in at.error]
    assert error.startswith("cannot resolve dynamodb.us-east-1.unresolvable.invalid ("), error
    assert error.endswith("): no network route to the AWS endpoints from here?"), error
    assert "\n" not in error and elapsed < at.number_input(key="ping_timeout").value + 2
    assert not bars_drawn(at) and not at.warning  # nothing else: no chart, no half-drawn results
    assert RunStore().list(kind="ping") == []


def bars_drawn(at: AppTest) -> bool:
    return any(getattr(el, "type", "") == "plotly_chart" for el in at.main)

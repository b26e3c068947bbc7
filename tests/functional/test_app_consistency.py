"""The Consistency page under AppTest: it starts its own MREC and MRSC local clouds, runs a small workload on both
and draws the verdicts, the per-region table and the four charts, with no exception. The app is pointed at an
endpoints file without a control API, so it starts no local cloud of its own."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import streamlit as st
from consistency_support import QUICK, needs_mrsc
from run_store_support import endpoints_file
from streamlit.testing.v1 import AppTest

from dashboard.measure.runs.store import RunStore

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")

# The page starts local clouds (processes on 127.0.0.1), hence e2e as well as AppTest.
pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(autouse=True)
def app_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MRKV_ENDPOINTS_FILE", endpoints_file(tmp_path))
    yield
    st.cache_resource.clear()


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/consistency.py").run()
    assert not at.exception, at.exception[0].message
    return at


def test_the_page_refuses_regions_mrsc_cannot_have_before_starting_anything():
    at = open_page()
    at.multiselect(key="cons_regions").set_value(["us-east-1", "us-east-2"]).run()
    assert not at.exception
    assert at.button(key="cons_run").disabled
    assert any("three regions" in i.value for i in at.info)
    at.selectbox(key="cons_witness").set_value("us-west-2").run()
    assert not at.button(key="cons_run").disabled


@needs_mrsc
def test_a_small_run_draws_both_sides_and_is_kept():
    at = open_page()
    for setting, widget in (
        ("writes", "cons_writes"),
        ("trials", "cons_trials"),
        ("isolation_rounds", "cons_rounds"),
    ):
        at.number_input(key=widget).set_value(QUICK[setting])
    at.button(key="cons_run").click().run()
    deadline = time.monotonic() + 90
    while "live_run_consistency" in at.session_state:
        assert time.monotonic() < deadline, "the comparison did not finish in 90 s"
        time.sleep(0.3)
        at.run()
    assert not at.exception, at.exception[0].message
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert list(table["side"]) == ["MREC"] * 3 + ["MRSC"] * 3
    assert set(table["region"]) == {"us-east-1", "us-east-2", "us-west-2"}
    mrsc = table[table["side"] == "MRSC"]
    assert all(text.startswith("0/") for text in mrsc["strong reads stale (for, p50)"])  # a quorum has every write
    cut_off = table.set_index(["side", "region"]).loc[("MRSC", "us-west-2"), "cut off: write/strong/eventual ok"]
    assert cut_off.startswith("0%/") and cut_off.endswith("100% (cut off)")
    verdicts = [v.value for v in [*at.info, *at.warning]]
    assert sorted(v.split(":")[0] for v in verdicts) == ["MREC", "MRSC"]
    charts = [json.loads(el.proto.spec) for el in at.main if getattr(el, "type", "") == "plotly_chart"]
    assert len(charts) == 4
    runs = RunStore().list(kind="consistency")
    assert [(run["status"], run["kind"]) for run in runs] == [("complete", "consistency")]
    assert RunStore().get(runs[0]["id"])["context"]["created_by"] == "dashboard"

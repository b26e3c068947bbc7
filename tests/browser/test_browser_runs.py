"""The run store's pages in a real browser (Debian's Chromium): the Map in measured mode draws only a run from the
map's client location, and the Compare page warns when two runs come from different places. The app serves a run
store made here and an endpoints file without control API, so no local cloud is started. Screenshots go to
test-results/screenshots (or $MRKV_SCREENSHOTS_DIR, e.g. docs/screenshots)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from run_store_support import endpoints_file, latency_run

from bench.browser import CHROMIUM, IDLE, chromium, serve_dashboard, wait_drawn
from dashboard.measure import stats
from dashboard.measure.runs.store import RunStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("MRKV_SCREENSHOTS_DIR", ROOT / "test-results" / "screenshots"))


@pytest.fixture
def app(tmp_path, isolated_run_store):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    runs = {
        "sydney": latency_run({"us-west-2": 140.0, "eu-central-1": 9.8, "global": 140.5}, "Sydney", name="from-sydney"),
        "seattle": latency_run({"us-west-2": 21.0, "eu-central-1": 151.0, "global": 21.5}, "Seattle", name="from-seattle"),
    }  # fmt: skip
    env = {"MRKV_RUN_STORE": str(isolated_run_store), "MRKV_ENDPOINTS_FILE": endpoints_file(tmp_path)}
    with serve_dashboard(tmp_path, env) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        yield url, page, runs
        context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def no_traceback(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def map_labels(page) -> list[str]:
    """The latency labels drawn on the map's lines (plotly's text nodes)."""
    texts = page.evaluate(
        "Array.from(document.querySelector('.js-plotly-plot').querySelectorAll('text')).map(t => t.textContent)"
    )  # the first chart is the map (the region matrix below it has labels in ms too)
    return sorted(t for t in texts if t.endswith(" ms"))


def expected_labels(run_id: str) -> list[str]:
    """The labels the map must show for a run: each region's p50 of the run's samples, rounded to the ms."""
    p50 = stats.summarize(RunStore().frame(run_id))["p50"]
    return sorted(f"{p50[region]:.0f} ms" for region in ("us-west-2", "eu-central-1"))


def wait_map(page, title: str) -> None:
    """The map titled ``title`` drawn, with its country outlines (the shipped topojson, no CDN)."""
    page.get_by_text(title).wait_for()
    wait_drawn(page, charts=1)
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot g.layer.countries path'))
                  .some(p => (p.getAttribute('d') || '').length > 10000)"""
    )


def test_map_measured_mode_draws_only_the_run_from_its_client_location(app):
    url, page, runs = app
    page.goto(url + "/world_map")
    page.wait_for_selector(IDLE)
    page.get_by_text("measured", exact=True).click()
    wait_map(page, "Regions seen from Seattle (measured p50 latency)")
    no_traceback(page)
    assert map_labels(page) == expected_labels(runs["seattle"])  # the Seattle run's, never the Sydney run's
    assert page.get_by_text("from-sydney").count() == 0
    shot(page, "map-measured")

    page.get_by_text("Also runs from other client locations").click()
    page.wait_for_selector(IDLE)
    page.get_by_test_id("stSelectbox").filter(has_text="Run (p50 per region)").click()
    page.get_by_role("option", name=re.compile("from-sydney")).click()
    wait_map(page, "Regions seen from Sydney (measured p50 latency)")
    assert map_labels(page) == expected_labels(runs["sydney"]) and "10 ms" in map_labels(page)
    assert page.get_by_text(re.compile("Under the physical floor")).count() == 1
    shot(page, "map-measured-other-location")


def test_compare_page_warns_above_the_numbers_for_two_client_locations(app):
    url, page, runs = app
    page.goto(f"{url}/compare?kind=latency&runs={runs['seattle']},{runs['sydney']}")
    page.get_by_test_id("stDataFrame").first.wait_for()
    wait_drawn(page, charts=2)
    no_traceback(page)
    warning = page.get_by_text(re.compile("The client locations differ"))
    assert warning.count() == 1
    assert warning.bounding_box()["y"] < page.get_by_test_id("stDataFrame").first.bounding_box()["y"]
    shot(page, "compare")

"""The Consistency page in a real browser (Debian's Chromium): it starts an MREC and an MRSC local cloud, runs the
default workload on both (network none) and draws the verdicts, the table and four charts, with no exception. The
app is given an endpoints file without control API, so it starts no local cloud of its own. Screenshots (live, then
done) go to test-results/screenshots, or $MRKV_SCREENSHOTS_DIR (docs/screenshots for the README)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from consistency_support import needs_mrsc
from run_store_support import endpoints_file

from bench.browser import CHROMIUM, IDLE, chromium, serve_dashboard, wait_drawn
from dashboard.measure.runs.store import RunStore

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_mrsc]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("MRKV_SCREENSHOTS_DIR", ROOT / "test-results" / "screenshots"))


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def no_traceback(page) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()


def test_the_comparison_runs_in_the_browser(tmp_path, isolated_run_store):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    env = {"MRKV_RUN_STORE": str(isolated_run_store), "MRKV_ENDPOINTS_FILE": endpoints_file(tmp_path)}
    with serve_dashboard(tmp_path, env) as url, chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 2600}).new_page()
        page.set_default_timeout(60_000)
        page.goto(url + "/consistency")
        page.wait_for_selector(IDLE, timeout=90_000)
        page.get_by_role("heading", name=re.compile("Consistency")).first.wait_for()
        page.get_by_role("button", name="Run MREC and MRSC").click()
        # The live panel: step 1 (starting both clouds) lasts seconds, long enough to be seen.
        page.get_by_text(re.compile(r"Step \d of 3")).first.wait_for(timeout=30_000)
        no_traceback(page)
        shot(page, "consistency-running")
        page.get_by_text(re.compile(r"^MRSC: ")).first.wait_for(timeout=120_000)
        wait_drawn(page, 4, timeout_ms=60_000)
        no_traceback(page)
        assert page.get_by_text(re.compile(r"^MREC: ")).count() == 1
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        shot(page, "consistency")
    runs = RunStore(isolated_run_store).list(kind="consistency")
    assert [run["status"] for run in runs] == ["complete"]

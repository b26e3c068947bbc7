"""A dashboard served by a real ``streamlit run`` and Debian's Chromium through Playwright, for the benchmarks and
the browser tests that bring their own run store and environment (``MRKV_RUN_STORE``, ``MRKV_ENDPOINTS_FILE``):
``serve_dashboard(workdir, env)`` yields the URL and stops the server (and what it started) at the end;
``chromium()`` yields a browser. Both bind or reach 127.0.0.1 only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
# The app has finished drawing: connected, and no script run in progress.
IDLE = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("streamlit did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.2)


@contextmanager
def serve_dashboard(workdir: Path, env: dict[str, str]):
    """``streamlit run dashboard/app.py`` on 127.0.0.1 (a free port) from ``workdir``, with ``env`` added."""
    port = free_port()
    log_path = workdir / "streamlit.log"
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.address",
        "127.0.0.1", "--server.port", str(port), "--server.headless", "true", "--server.enableStaticServing", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command, cwd=workdir, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, server, log_path)
            yield url
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_drawn(page, charts: int, timeout_ms: int = 60_000) -> None:
    """Until the script run is over and ``charts`` plotly charts have drawn their SVG."""
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {2 * charts}", timeout=timeout_ms
    )

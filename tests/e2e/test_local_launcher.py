"""``python -m backend.local up`` as a user runs it: ready in time, endpoints printed and written, and no process
left behind after Ctrl-C, SIGTERM, or even a SIGKILL of the launcher."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, grandchildren…), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


def wait_until(check, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


@pytest.fixture
def launcher(tmp_path):
    """Starts the launcher; yields (process, endpoints file); kills whatever is left at the end."""
    endpoints_file = tmp_path / "endpoints.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend.local",
            "up",
            "--port",
            "0",
            "--network",
            "none",
            "--endpoints-file",
            str(endpoints_file),
            "--state-dir",
            str(tmp_path / "state"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen: set[int] = set()
    try:
        yield process, endpoints_file, seen
    finally:
        seen |= descendants(process.pid)
        for pid in alive(seen | {process.pid}):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(10)


def wait_ready(process, endpoints_file: Path, timeout_s: float = 60) -> dict:
    ready = wait_until(lambda: endpoints_file.exists() or process.poll() is not None, timeout_s)
    assert ready and process.poll() is None, (
        process.stderr.read() if process.poll() is not None else "not ready"
    )
    return json.loads(endpoints_file.read_text())


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_every_process(launcher, signum):
    process, endpoints_file, seen = launcher
    endpoints = wait_ready(process, endpoints_file)
    assert requests.get(endpoints["regions"]["us-west-2"] + "/_health", timeout=5).status_code == 200
    children = descendants(process.pid)
    seen |= children
    assert len(children) >= 4  # two regions, the replicator, the global process
    process.send_signal(signum)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "us-west-2" in out and "global (geo-routed)" in out  # the readable table was printed
    assert wait_until(lambda: not alive(children), 10), f"left behind: {alive(children)}"
    assert not endpoints_file.exists()  # a stopped cloud leaves no stale endpoints behind


def test_children_die_even_when_the_launcher_is_killed(launcher):
    process, endpoints_file, seen = launcher
    wait_ready(process, endpoints_file)
    children = descendants(process.pid)
    seen |= children
    assert children
    process.kill()
    process.wait(10)
    assert wait_until(lambda: not alive(children), 15), f"orphaned: {alive(children)}"


def test_ready_line_and_time(launcher):
    process, endpoints_file, seen = launcher
    started = time.monotonic()
    wait_ready(process, endpoints_file)
    seen |= descendants(process.pid)
    elapsed = time.monotonic() - started
    # 5 s on an idle 2-core machine; the bound here leaves room for a test run sharing the cores.
    assert elapsed < 30, elapsed


def test_bad_arguments_exit_with_a_clear_message():
    result = subprocess.run(
        [sys.executable, "-m", "backend.local", "up", "--regions", "us-west-2,mars-north-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Unknown AWS region 'mars-north-1'" in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "backend.local", "up", "--client-location", "Atlantis"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "Unknown location 'Atlantis'" in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "backend.local", "up", "--regions", "us-west-2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "at least 2 regions" in result.stderr

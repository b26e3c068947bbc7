"""The replicator as a process: ready line, SIGTERM saves and exits 0, bad config is a clear error."""

import json
import signal
import subprocess
import sys

import pytest
from replication_support import ROOT, get_json, start_region, start_replicator

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def two_regions():
    started = [start_region("us-west-2"), start_region("eu-central-1")]
    yield {"us-west-2": started[0].ready, "eu-central-1": started[1].ready}
    for process in started:
        process.stop()


def test_ready_line_admin_on_loopback_and_sigterm_saves_state(two_regions, tmp_path):
    config = {
        "regions": {region: ready["admin"] + "/__admin/dynamodb" for region, ready in two_regions.items()},
        "state_dir": str(tmp_path / "state"),
        "network": "none",
        "delay": 0,
    }
    process = start_replicator(config, tmp_path / "replicator.json")
    assert process.ready["ready"] is True
    assert process.ready["admin"].startswith("http://127.0.0.1:")
    status = get_json(process.ready["admin"] + "/status")
    assert status["regions"] == ["eu-central-1", "us-west-2"]
    process.popen.send_signal(signal.SIGTERM)
    assert process.popen.wait(timeout=20) == 0
    state = json.loads((tmp_path / "state" / "replicator-state.json").read_text())
    assert set(state["sources"]) == {"us-west-2", "eu-central-1"}


@pytest.mark.parametrize(
    "config, message",
    [
        ({"regions": {"us-west-2": "http://127.0.0.1:1"}, "state_dir": "x"}, "at least 2"),
        (
            {
                "regions": {"a": "http://127.0.0.1:1", "b": "http://127.0.0.1:2"},
                "state_dir": "x",
                "network": "fast",
            },
            '"network"',
        ),
        (
            {
                "regions": {"a": "http://127.0.0.1:1", "b": "http://127.0.0.1:2"},
                "state_dir": "x",
                "delay": -5,
            },
            '"delay"',
        ),
        ({"regions": {"a": "http://127.0.0.1:1", "b": "http://127.0.0.1:2"}}, '"state_dir"'),
        ([1, 2], "JSON object"),
        ({"regions": {"a": "http://127.0.0.1:1", "b": 5}, "state_dir": "x"}, "http(s) URL"),
    ],
)
def test_a_bad_config_is_a_clear_error_not_a_traceback(tmp_path, config, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    result = subprocess.run(
        [sys.executable, "-m", "backend.local.replication", "--config", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "backend.local.replication", "--config", str(tmp_path / "nope.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        result.returncode == 2 and "cannot read config" in result.stderr and "Traceback" not in result.stderr
    )

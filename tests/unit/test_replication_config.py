"""The replicator's config, its admin routes (without HTTP) and the backfill's reset grace."""

import ipaddress
import json

import pytest
from replicator_config import REGIONS, offline_config

from backend.local.contracts import TABLE_NAME
from backend.local.replication.admin import ROUTES
from backend.local.replication.config import DEFAULT_POLL_INTERVAL_MS, ConfigError, load_config
from backend.local.replication.replicator import Replicator

UNSPECIFIED = str(ipaddress.IPv4Address(0))  # the wildcard address: the config must refuse it


def write(tmp_path, config):
    path = tmp_path / "replicator.json"
    path.write_text(config if isinstance(config, str) else json.dumps(config))
    return path


@pytest.mark.parametrize(
    "config, message",
    [
        ("{not json", "cannot read config"),
        ([1, 2], "JSON object"),
        ({"regions": {"a": "http://127.0.0.1:1"}, "state_dir": "x"}, "at least 2 region"),
        ({"regions": {"a": "http://127.0.0.1:1", "b": 5}, "state_dir": "x"}, "http(s) URL"),
        ({"regions": REGIONS, "state_dir": "x", "network": "fast"}, '"network"'),
        ({"regions": REGIONS, "state_dir": "x", "delay": -1}, '"delay"'),
        ({"regions": REGIONS, "state_dir": "x", "delay": True}, '"delay"'),
        ({"regions": REGIONS}, '"state_dir"'),
        ({"regions": REGIONS, "state_dir": "x", "admin_host": UNSPECIFIED}, "loopback"),
    ],
)
def test_a_bad_config_says_what_is_wrong(tmp_path, config, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(write(tmp_path, config))


def test_a_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.json")


def test_the_defaults_are_filled_in(tmp_path):
    config = load_config(write(tmp_path, {"regions": REGIONS, "state_dir": "x"}))
    assert config["table"] == TABLE_NAME
    assert (config["admin_host"], config["admin_port"], config["network"], config["delay"]) == (
        "127.0.0.1",
        0,
        "realistic",
        "auto",
    )
    assert config["region_admin"] == {} and config["poll_interval_ms"] == DEFAULT_POLL_INTERVAL_MS


def make(tmp_path, clock=lambda: 1000.0):
    config = offline_config(tmp_path)
    return Replicator(config, clock=clock)


def call(replicator, method, path, body=None):
    return ROUTES[(method, path)](replicator, body or {})


def test_the_admin_routes_call_the_replicator(tmp_path):
    replicator = make(tmp_path)
    assert call(replicator, "POST", "/pause", {"region": "us-west-2"}) == {"paused": ["us-west-2"]}
    assert call(replicator, "GET", "/status")["paused"] == ["us-west-2"]
    assert call(replicator, "POST", "/resume", {"region": "us-west-2"}) == {"paused": []}
    assert call(replicator, "POST", "/delay", {"ms": 250}) == {"delay_override_ms": 250}
    assert replicator.delay_ms("us-west-2", "eu-central-1") == 250
    assert call(replicator, "POST", "/network", {"mode": "realistic"}) == {"network": "realistic"}
    assert call(replicator, "GET", "/replication-latency")["metric"] == "ReplicationLatency"
    assert call(replicator, "POST", "/reset") == {"reset": True}
    for path, body in [
        ("/pause", {"region": "mars-1"}),
        ("/pause", {}),
        ("/delay", {"ms": 600_001}),
        ("/delay", {"ms": False}),
        ("/delay", {}),
        ("/network", {"mode": "fast"}),
    ]:
        with pytest.raises(ValueError):
            call(replicator, "POST", path, body)


def test_tables_recreated_just_after_a_reset_owe_no_backfill(tmp_path):
    now = [1000.0]
    replicator = make(tmp_path, clock=lambda: now[0])
    replicator.backfill.table_recreated("us-west-2")  # a region restarted: copy the others into it
    assert replicator.backfill.pending() == ["us-west-2"]
    replicator.reset()
    assert replicator.backfill.pending() == []
    now[0] += 29
    replicator.backfill.table_recreated("us-west-2")  # the reset recreated it
    assert replicator.backfill.pending() == []
    now[0] += 2
    replicator.backfill.table_recreated("us-west-2")
    assert replicator.backfill.pending() == ["us-west-2"]

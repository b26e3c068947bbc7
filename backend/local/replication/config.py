"""The replicator's JSON config: ``load_config`` checks it and fills in the defaults; ``ConfigError`` says what's wrong.

Config (JSON): {"table": "keyvalues", "regions": {"us-west-2": "http://127.0.0.1:P", ...}, "state_dir": "...",
"admin_host": "127.0.0.1", "admin_port": 0, "network": "realistic"|"none", "delay": "auto"|<ms>,
"region_admin": {"us-west-2": "http://127.0.0.1:P", ...} (optional), and optional tuning: "poll_interval_ms": 15,
"idle_poll_interval_ms": 50,
"appliers": 4 (per destination), "apply_batch": 32 (changes a door call)}. Tombstones live in the regions (``backend/local/dynamodb/versions.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

from backend.local.contracts import TABLE_NAME
from backend.local.loopback import is_loopback

DEFAULT_POLL_INTERVAL_MS = 15  # empty polls of a stream that had records in the last IDLE_AFTER_S
DEFAULT_IDLE_POLL_INTERVAL_MS = (
    50  # a quiet stream: each empty poll costs moto ~2-4 ms of CPU and an iterator
)
DEFAULT_APPLIERS = 4  # concurrent appliers per destination (moto answers each request in a few ms)


class ConfigError(ValueError):
    pass


def load_config(path: str | Path) -> dict:
    try:
        config = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read config {path}: {error}") from None
    if not isinstance(config, dict):
        raise ConfigError("the config must be a JSON object")
    regions = config.get("regions")
    if not isinstance(regions, dict) or len(regions) < 2:
        raise ConfigError('"regions" must map at least 2 region names to DynamoDB endpoint URLs')
    for name, url in regions.items():
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f'"regions": the endpoint of {name} must be an http(s) URL, not {url!r}')
    if config.get("network", "realistic") not in ("realistic", "none"):
        raise ConfigError('"network" must be "realistic" or "none"')
    delay = config.get("delay", "auto")
    if delay != "auto" and not (isinstance(delay, int) and not isinstance(delay, bool) and delay >= 0):
        raise ConfigError('"delay" must be "auto" or a number of milliseconds >= 0')
    if not config.get("state_dir"):
        raise ConfigError('"state_dir" is required')
    if not is_loopback(config.get("admin_host", "127.0.0.1")):
        raise ConfigError('"admin_host" must be a loopback address (127.0.0.1, ::1 or localhost)')
    config.setdefault("table", TABLE_NAME)
    config.setdefault("admin_host", "127.0.0.1")
    config.setdefault("admin_port", 0)
    config.setdefault("network", "realistic")
    config.setdefault("delay", "auto")
    config.setdefault("region_admin", {})
    config.setdefault("poll_interval_ms", DEFAULT_POLL_INTERVAL_MS)
    return config

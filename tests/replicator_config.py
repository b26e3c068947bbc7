"""The replicator config the unit tests share: two regions on ports nothing listens on, no delay, no network model."""

from backend.local.contracts import TABLE_NAME

WEST, CENTRAL = "us-west-2", "eu-central-1"
REGIONS = {CENTRAL: "http://127.0.0.1:1", WEST: "http://127.0.0.1:2"}


def offline_config(state_dir) -> dict:
    return {"table": TABLE_NAME, "regions": REGIONS, "state_dir": str(state_dir), "delay": 0, "network": "none"}

"""PendingReplicationCount per source → destination, as CloudWatch names it: with replication into one region paused,
N item updates written in another show up as N pending for that pair, through the control API, and drain to 0 on
resume (docs/FIDELITY.md)."""

from __future__ import annotations

import time

import pytest
from cloud_clients import local_client

from backend.local.cloud import LocalCloud

pytestmark = pytest.mark.e2e

US, EU = "us-west-2", "eu-central-1"
N = 7


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    with LocalCloud(
        regions=[US, EU], network="none", endpoints_file=tmp_path_factory.mktemp("cloud") / "endpoints.json"
    ) as local:
        yield local


def _until(check, timeout_s: float = 20.0):
    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    pytest.fail(f"not true within {timeout_s} s; last: {last!r}")


def test_pending_replication_count_counts_paused_updates_per_pair_and_drains_on_resume(cloud):
    control = cloud.control
    us = local_client(cloud, US)
    assert control.pending_replication_count() == {(US, EU): 0, (EU, US): 0}
    control.pause_replication(EU)
    try:
        for i in range(N):
            item = {
                "key": {"S": f"pending-{i}"},
                "value": {"S": "v"},
                "region": {"S": US},
                "writtenAt": {"N": str(time.time_ns() // 10**6)},
            }
            us.put_item(TableName="keyvalues", Item=item)
        _until(lambda: control.pending_replication_count()[(US, EU)] == N)
        time.sleep(0.5)  # paused: nothing is applied, so it stays
        counts = control.pending_replication_count()
        assert counts == {(US, EU): N, (EU, US): 0}
        pairs = {(p["source"], p["destination"]): p for p in control.replication_latency()["pairs"]}
        assert pairs[(US, EU)]["pending_replication_count"] == N and "p50_ms" in pairs[(US, EU)]
    finally:
        control.resume_replication(EU)
    _until(lambda: set(control.pending_replication_count().values()) == {0})

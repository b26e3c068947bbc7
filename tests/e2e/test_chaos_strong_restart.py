"""A restarted region of an MRSC table stays out of the quorum until it has caught up (``strong_restart.py``).

The sequence: us-west-2 is cut off and the replicator killed, so write W in us-east-1 has its two copies in us-east-1
and us-east-2 only; us-east-2 is killed and comes back empty (moto keeps nothing; an AWS region would keep W).
Had it answered its peers at once, us-west-2's strong reads would ask it (its nearest peer) and return the value
before W, every time (measured: 20 of 20): a loss AWS would not have. Out of the quorum, us-west-2 asks us-east-1
and reads W; us-east-2 refuses writes and strong reads until the replicator has brought it W, then rejoins."""

import os
import signal
import time

import pytest
from mrsc_support import US_SET, client, error_code, strong_value

from backend.local.chaos import faults, strong_restart
from backend.local.cloud import LocalCloud
from backend.local.contracts import TABLE_NAME
from backend.local.control.client import ControlError

pytestmark = pytest.mark.e2e
WRITER, RESTARTED, READER = "us-east-1", "us-east-2", "us-west-2"


def put(db, value: str) -> None:
    db.put_item(TableName=TABLE_NAME, Item={"key": {"S": "k"}, "value": {"S": value}})


def test_a_restarted_region_answers_for_nothing_until_it_holds_what_the_others_hold(tmp_path):
    with LocalCloud(regions=US_SET, network="realistic", consistency="strong", state_dir=tmp_path) as cloud:
        dbs = {region: client(cloud, region) for region in US_SET}
        put(dbs[WRITER], "old")
        deadline = time.monotonic() + 10
        while strong_value(dbs[READER], "k") != "old" and time.monotonic() < deadline:
            time.sleep(0.1)
        cloud.control.isolate_region(READER)
        cloud.kill_replicator()
        put(dbs[WRITER], "W")  # accepted by us-east-2 only
        with pytest.raises(ControlError):  # the region reconnects; the replicator to resume is down
            cloud.control.reconnect_region(READER)

        strong_restart.leave_quorum(cloud, RESTARTED)
        child = cloud.children[f"region {RESTARTED}"]
        os.killpg(child.pid, signal.SIGKILL)
        child.popen.wait(10)
        faults.restart_region(cloud, RESTARTED)

        reader = client(cloud, READER)
        assert [strong_value(reader, "k") for _ in range(10)] == ["W"] * 10
        for call in (lambda: strong_value(client(cloud, RESTARTED), "k"), lambda: put(client(cloud, RESTARTED), "x")):
            with pytest.raises(Exception) as refused:
                call()
            assert error_code(refused.value) == "InternalServerError"

        cloud.restart_replicator()  # its backfill brings W to the empty region
        assert strong_restart.rejoin_when_caught_up(cloud, RESTARTED, timeout_s=60) < 60
        assert {region: strong_value(client(cloud, region), "k") for region in US_SET} == dict.fromkeys(US_SET, "W")

"""MRSC local clouds (three replicas; two replicas and a witness) end to end: every acknowledged write is readable
with ``ConsistentRead`` in every replica at once, concurrent writes to one item from several regions never lose an
acknowledged update (one fails with ``ReplicatedWriteConflictException`` instead), and an isolated region refuses
writes and strongly consistent reads while the other two serve. AWS document: DynamoDB Developer Guide,
"Multi-Region strong consistency" (docs/FIDELITY.md)."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule
from mrsc_support import US_SET, api_write, client, error_code, eventual_value, strong_value

from backend.local.cloud import LocalCloud
from backend.local.contracts import TABLE_NAME

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["three-replicas", "witness"])
def cloud(request, tmp_path_factory):
    witness = {"witness": "us-west-2"} if request.param == "witness" else {}
    regions = US_SET if not witness else US_SET[:2]
    with LocalCloud(
        regions=regions, network="none", consistency="strong", state_dir=tmp_path_factory.mktemp("mrsc"), **witness
    ) as local:
        yield local


def test_describe_table_shows_strong_consistency_and_the_witness(cloud):
    table = client(cloud, cloud.regions[0]).describe_table(TableName=TABLE_NAME)["Table"]
    assert table["MultiRegionConsistency"] == "STRONG"
    assert sorted(replica["RegionName"] for replica in table["Replicas"]) == sorted(cloud.regions)
    witnesses = [w["RegionName"] for w in table.get("GlobalTableWitnesses", [])]
    assert witnesses == ([cloud.witness] if cloud.witness else [])
    assert cloud.endpoints["consistency"] == "strong" and cloud.endpoints["witness"] == cloud.witness


def test_an_acknowledged_write_is_read_by_strong_reads_in_every_replica_at_once(cloud):
    session = requests.Session()
    dbs = {region: client(cloud, region) for region in cloud.regions}
    for number in range(12):
        writer = cloud.regions[number % len(cloud.regions)]
        status, _version = api_write(session, cloud, writer, f"fresh-{number}", f"v{number}")
        assert status == 200
        for region, db in dbs.items():  # no wait at all: strong reads never lag
            assert strong_value(db, f"fresh-{number}") == f"v{number}", (writer, region)


def test_concurrent_increments_from_every_region_lose_none(cloud):
    """Read-modify-write from every region at once: each acknowledged ADD is in the final count; the others
    failed with ReplicatedWriteConflictException (under MREC's last writer wins some would silently vanish)."""
    dbs = {region: client(cloud, region) for region in cloud.regions}
    acknowledged, refused = [], []

    def add_one(region: str, start: threading.Barrier):
        start.wait()
        try:
            dbs[region].update_item(
                TableName=TABLE_NAME, Key={"key": {"S": "counter"}},
                UpdateExpression="ADD hits :one", ExpressionAttributeValues={":one": {"N": "1"}},
            )
            acknowledged.append(region)
        except Exception as error:  # noqa: BLE001 - the code is what the test checks
            refused.append(error_code(error))

    for _round in range(15):
        start = threading.Barrier(len(dbs))
        threads = [threading.Thread(target=add_one, args=(region, start)) for region in dbs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    item = dbs[cloud.regions[-1]].get_item(TableName=TABLE_NAME, Key={"key": {"S": "counter"}}, ConsistentRead=True)
    assert int(item["Item"]["hits"]["N"]) == len(acknowledged)
    assert set(refused) <= {"ReplicatedWriteConflictException"}
    assert len(acknowledged) >= 15  # every round, at least one region's write goes through
    assert refused, "three regions writing one item at once: some writes must conflict"


def test_an_isolated_region_refuses_writes_and_strong_reads_while_the_others_serve(cloud):
    isolated, others = cloud.regions[-1], cloud.regions[:-1]
    session = requests.Session()
    assert api_write(session, cloud, isolated, "iso", "before")[0] == 200
    cloud.control.isolate_region(isolated)
    try:
        db = client(cloud, isolated)
        with pytest.raises(Exception) as refused_write:
            db.put_item(TableName=TABLE_NAME, Item={"key": {"S": "iso"}, "value": {"S": "lost?"}})
        assert error_code(refused_write.value) == "InternalServerError"
        with pytest.raises(Exception) as refused_read:
            strong_value(db, "iso")
        assert error_code(refused_read.value) == "InternalServerError"
        assert eventual_value(db, "iso") == "before"  # eventually consistent reads still answer, maybe stale
        for number, region in enumerate(others):
            assert api_write(session, cloud, region, "iso", f"during-{number}")[0] == 200
            assert strong_value(client(cloud, region), "iso") == f"during-{number}"
    finally:
        cloud.control.reconnect_region(isolated)
    assert strong_value(client(cloud, isolated), "iso") == f"during-{len(others) - 1}"
    deadline = time.monotonic() + 10
    while eventual_value(client(cloud, isolated), "iso") != f"during-{len(others) - 1}":
        assert time.monotonic() < deadline, "the healed region never caught up"
        time.sleep(0.1)


class ConcurrentWriters(RuleBasedStateMachine):
    """Batches of concurrent writes through the API, from every region to a few keys, then strong reads in every
    replica: each read returns the acknowledged write with the highest version (none stale, none lost)."""

    cloud: LocalCloud = None
    runs = 0

    def __init__(self):
        super().__init__()
        ConcurrentWriters.runs += 1
        self.prefix = f"sm{ConcurrentWriters.runs}"  # each example its own keys: the cloud outlives examples
        self.session = requests.Session()
        self.dbs = {region: client(self.cloud, region) for region in self.cloud.regions}
        self.latest: dict[str, tuple] = {}  # key -> (version, value) of its newest acknowledged write
        self.batch = 0

    @rule(
        writes=st.lists(
            st.tuples(st.sampled_from(US_SET), st.sampled_from(["a", "b", "c"])), min_size=1, max_size=6
        )
    )
    def concurrent_batch(self, writes):
        self.batch += 1
        start = threading.Barrier(len(writes))
        results = [None] * len(writes)

        def write(index: int, region: str, key: str):
            region = region if region in self.dbs else self.cloud.regions[0]  # the witness serves no client
            start.wait()
            value = f"{self.batch}-{index}-{region}"
            status, version = api_write(self.session, self.cloud, region, f"{self.prefix}-{key}", value)
            results[index] = (key, status, version, value)

        threads = [threading.Thread(target=write, args=(i, *w)) for i, w in enumerate(writes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for key, status, version, value in results:
            if status == 200 and (key not in self.latest or version > self.latest[key][0]):
                self.latest[key] = (version, value)

    @rule(key=st.sampled_from(["a", "b", "c"]))
    def strong_reads_everywhere(self, key):
        expected = self.latest.get(key, (None, None))[1]
        for region, db in self.dbs.items():
            assert strong_value(db, f"{self.prefix}-{key}") == expected, (region, key)


def test_hypothesis_concurrent_writers_never_see_a_stale_strong_read(cloud):
    ConcurrentWriters.cloud = cloud
    runner = ConcurrentWriters.TestCase
    runner.settings = settings(
        max_examples=12, stateful_step_count=10, deadline=None, suppress_health_check=list(HealthCheck)
    )
    runner().runTest()


def test_a_region_behind_decides_conditions_and_deletes_on_the_latest_write(cloud):
    """us-east-2 misses two writes (isolated while they were made, then back with replication into it still
    paused): a condition on one and a delete of the other are decided on the latest writes, not on its copy."""
    behind, writer = cloud.regions[1], cloud.regions[0]
    session = requests.Session()
    cloud.control.isolate_region(behind)
    try:
        assert api_write(session, cloud, writer, "cond", "written-while-behind")[0] == 200
        assert api_write(session, cloud, writer, "gone", "to-delete")[0] == 200
        # the region answers its peers again, but nothing has been replicated into it yet
        requests.post(cloud.region_info[behind]["admin"] + "/__admin/config", json={"isolated": False}, timeout=10)
        db = client(cloud, behind)
        assert eventual_value(db, "cond") is None  # its own copy is behind
        db.put_item(
            TableName=TABLE_NAME, Item={"key": {"S": "cond"}, "value": {"S": "updated"}},
            ConditionExpression="attribute_exists(#k)", ExpressionAttributeNames={"#k": "key"},
        )
        db.delete_item(TableName=TABLE_NAME, Key={"key": {"S": "gone"}})
    finally:
        cloud.control.reconnect_region(behind)
    for region in cloud.regions:
        assert strong_value(client(cloud, region), "cond") == "updated"
        assert strong_value(client(cloud, region), "gone") is None


def test_the_api_answers_409_to_a_racing_write_and_503_in_a_cut_off_region(cloud):
    session = requests.Session()
    statuses, retry_after = [], set()

    def post(region: str, number: int, start: threading.Barrier):
        start.wait()
        answer = requests.post(f"{cloud.endpoints['regions'][region]}/race", json={"value": f"{region}-{number}"}, timeout=30)
        statuses.append(answer.status_code)
        if answer.status_code == 409:
            retry_after.add(answer.headers.get("Retry-After"))
            assert "another region" in answer.json()["error"]

    for number in range(10):
        start = threading.Barrier(len(cloud.regions))
        threads = [threading.Thread(target=post, args=(r, number, start)) for r in cloud.regions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert set(statuses) <= {200, 409} and 409 in statuses and 200 in statuses
    assert retry_after == {"1"}

    isolated = cloud.regions[-1]
    stage = cloud.endpoints["regions"][isolated]
    assert session.post(f"{stage}/cut", json={"value": "before"}, timeout=30).status_code == 200
    cloud.control.isolate_region(isolated)
    try:
        refused = session.post(f"{stage}/cut", json={"value": "during"}, timeout=30)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
        assert session.get(f"{stage}/cut?consistent=true", timeout=30).status_code == 503
        eventual = session.get(f"{stage}/cut", timeout=30)
        assert eventual.status_code == 200 and eventual.json()["value"] == "before"
    finally:
        cloud.control.reconnect_region(isolated)
    assert session.get(f"{stage}/cut?consistent=true", timeout=30).json()["value"] == "before"

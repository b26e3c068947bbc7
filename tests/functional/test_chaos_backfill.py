"""Regression test of what the long chaos run found in the replicator's backfill of a restarted region.

A backfill copies every item of the other regions into a region whose table was recreated. The long run kills the
replicator every ~70 s and restarts regions; each restart began the backfill again from the first item, and on
a loaded machine (3,400 conditional puts at 20-50 ms) it never finished between two kills. It now skips what the
target already holds, so an interrupted backfill resumes where it was.
"""


import boto3
import pytest
from moto_support import moto_server

from backend.local.replication.replicator import Replicator
from backend.store import table_definition

REGIONS = ("us-west-2", "eu-central-1")
TABLE = "keyvalues"


@pytest.fixture
def moto_url():
    with moto_server() as url:
        yield url


@pytest.fixture
def tables(moto_url):
    clients = {
        region: boto3.client("dynamodb", region_name=region, endpoint_url=moto_url, aws_access_key_id="x",
                             aws_secret_access_key="x")
        for region in REGIONS
    }  # fmt: skip
    for client in clients.values():
        client.create_table(**table_definition(TABLE))
    yield clients
    for client in clients.values():  # moto's state is the process's: the next test starts without tables
        client.delete_table(TableName=TABLE)


def put(client, key, value, region, ts):
    item = {"key": {"S": key}, "value": {"S": value}, "region": {"S": region}, "writtenAt": {"N": str(ts)}}
    client.put_item(TableName=TABLE, Item=item)


def before_each_call(client, hook):
    """Calls ``hook(operation)`` before each request the replicator's wire client sends; the request still goes."""
    send = client.call

    def call(operation, params):
        hook(operation)
        return send(operation, params)

    client.call = call


def replicator_owing_a_backfill(moto_url, tmp_path, dst) -> Replicator:
    """A real replicator, not started (the test runs its backfill synchronously), that owes ``dst`` a backfill."""
    config = {
        "table": TABLE,
        "regions": {r: moto_url for r in REGIONS},
        "state_dir": str(tmp_path),
        "network": "none",
    }
    replicator = Replicator(config)  # its clients of each region exist from construction, unstarted
    replicator.backfill.request(dst)
    return replicator


def backfill_counting_puts(moto_url, tmp_path, dst) -> int:
    """Runs one backfill of ``dst`` synchronously with a real replicator and counts its PutItem calls."""
    replicator = replicator_owing_a_backfill(moto_url, tmp_path, dst)
    calls = []
    before_each_call(replicator.clients[dst].dynamodb, calls.append)
    replicator.backfill.run(dst)
    assert replicator.backfill.pending() == []
    return calls.count("PutItem")


def test_a_backfill_started_again_copies_only_what_the_target_lacks(tables, moto_url, tmp_path):
    source, target = tables["us-west-2"], tables["eu-central-1"]
    for i in range(40):
        put(source, f"k{i}", f"v{i}", "us-west-2", 1000 + i)
    for i in range(30):  # an earlier, interrupted backfill had copied these
        put(target, f"k{i}", f"v{i}", "us-west-2", 1000 + i)
    put(source, "k0", "newer", "us-west-2", 5000)  # changed at the source since that copy

    assert backfill_counting_puts(moto_url, tmp_path, "eu-central-1") == 11  # k30..k39 and the newer k0
    items = target.scan(TableName=TABLE)["Items"]
    assert len(items) == 40
    assert {i["key"]["S"]: i["value"]["S"] for i in items}["k0"] == "newer"


def test_a_target_holding_newer_items_keeps_them(tables, moto_url, tmp_path):
    source, target = tables["us-west-2"], tables["eu-central-1"]
    put(source, "k", "old", "us-west-2", 1000)
    put(target, "k", "new", "eu-central-1", 2000)
    assert backfill_counting_puts(moto_url, tmp_path, "eu-central-1") == 0
    assert target.get_item(TableName=TABLE, Key={"key": {"S": "k"}})["Item"]["value"]["S"] == "new"


def test_a_target_recreated_during_its_backfill_is_copied_again_in_full(tables, moto_url, tmp_path):
    """The long run's divergence: a region restarted while its previous backfill waited (fenced, paused); the
    backfill then finished into the new, empty table with only the rest of its items and said it was done."""
    source = tables["us-west-2"]
    for i in range(40):
        put(source, f"k{i}", f"v{i}", "us-west-2", 1000 + i)
    replicator = replicator_owing_a_backfill(moto_url, tmp_path, "eu-central-1")
    puts = []

    def restart_region_midway(operation):
        if operation != "PutItem":
            return
        puts.append(1)
        if len(puts) == 20:  # the region process is killed and comes back empty
            tables["eu-central-1"].delete_table(TableName=TABLE)
            tables["eu-central-1"].create_table(**table_definition(TABLE))

    before_each_call(replicator.clients["eu-central-1"].dynamodb, restart_region_midway)
    for _attempt in range(3):  # the worker starts the backfill again while it is pending
        if not replicator.backfill.pending():
            break
        replicator.backfill.run("eu-central-1")
    assert replicator.backfill.pending() == []
    assert len(tables["eu-central-1"].scan(TableName=TABLE)["Items"]) == 40

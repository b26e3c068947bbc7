"""Regression test of what the long chaos run found in the replicator's backfill of a restarted region.

A backfill copies every item (and tombstone) of the other regions, with their hidden versions, into a region whose
table was recreated. The long run kills the replicator every ~70 s and restarts regions, so a backfill is often
interrupted and started again: the target takes only what it lacks or holds older (its door refuses the rest), and a
target recreated during its backfill is copied again in full.
"""

import boto3
import pytest
from door_support import door_server
from moto_support import moto_server

from backend.local.replication.replicator import Replicator
from backend.store import table_definition

REGIONS = ("us-west-2", "eu-central-1", "ap-northeast-1")
TABLE = "keyvalues"


@pytest.fixture(scope="module")
def urls():
    with moto_server() as moto_url, door_server() as door_url:
        yield moto_url, door_url


@pytest.fixture
def tables(urls):
    clients = {
        region: boto3.client("dynamodb", region_name=region, endpoint_url=urls[0], aws_access_key_id="x",
                             aws_secret_access_key="x")
        for region in REGIONS
    }  # fmt: skip
    for client in clients.values():
        client.create_table(**table_definition(TABLE))
    yield clients
    for client in clients.values():  # moto's state is the process's: the next test starts without tables
        client.delete_table(TableName=TABLE)


def put(client, key, value):
    client.put_item(TableName=TABLE, Item={"key": {"S": key}, "value": {"S": value}})


def before_each_call(client, hook):
    """Calls ``hook(operation)`` before each request the replicator's wire client sends; the request still goes."""
    send = client.call

    def call(operation, params):
        hook(operation)
        return send(operation, params)

    client.call = call


def counting_applied(client) -> list:
    """The door's answers to ApplyChanges through ``client``: how many changes the target took."""
    taken = []
    send = client.call

    def call(operation, params):
        answer = send(operation, params)
        if operation == "ApplyChanges":
            taken.extend(flag for flag in answer["Applied"] if flag)
        return answer

    client.call = call
    return taken


def replicator_owing_a_backfill(door_url, tmp_path, dst) -> Replicator:
    """A real replicator, not started (the test runs its backfill synchronously), that owes ``dst`` a backfill."""
    config = {
        "table": TABLE,
        "regions": {r: f"{door_url}/{r}" for r in REGIONS},
        "state_dir": str(tmp_path),
        "network": "none",
    }
    replicator = Replicator(config)  # its clients of each region exist from construction, unstarted
    replicator.backfill.request(dst)
    return replicator


def test_a_backfill_started_again_takes_only_what_the_target_lacks_or_holds_older(tables, urls, tmp_path):
    source = tables["us-west-2"]
    for i in range(40):
        put(source, f"k{i}", f"v{i}")
    first = replicator_owing_a_backfill(urls[1], tmp_path / "a", "eu-central-1")
    first.backfill.run("eu-central-1")  # a complete copy: everything taken once
    put(source, "k0", "newer")  # changed at the source since that copy
    again = replicator_owing_a_backfill(urls[1], tmp_path / "b", "eu-central-1")
    taken = counting_applied(again.clients["eu-central-1"].replication)
    again.backfill.run("eu-central-1")
    assert again.backfill.pending() == []
    assert len(taken) == 1  # only the newer k0
    items = {i["key"]["S"]: i["value"]["S"] for i in tables["eu-central-1"].scan(TableName=TABLE)["Items"]}
    assert len(items) == 40 and items["k0"] == "newer"


def test_a_target_holding_newer_items_keeps_them(tables, urls, tmp_path):
    put(tables["us-west-2"], "k", "old")
    put(tables["eu-central-1"], "k", "new")  # later: a newer hidden version
    replicator = replicator_owing_a_backfill(urls[1], tmp_path, "eu-central-1")
    taken = counting_applied(replicator.clients["eu-central-1"].replication)
    replicator.backfill.run("eu-central-1")
    assert taken == []
    assert tables["eu-central-1"].get_item(TableName=TABLE, Key={"key": {"S": "k"}})["Item"]["value"]["S"] == "new"


def test_a_target_recreated_during_its_backfill_is_copied_again_in_full(tables, urls, tmp_path):
    """The long run's divergence: a region restarted while its previous backfill waited (fenced, paused); the
    backfill then finished into the new, empty table with only the rest of its items and said it was done."""
    for i in range(20):
        put(tables["us-west-2"], f"w{i}", "v")
        put(tables["ap-northeast-1"], f"t{i}", "v")
    replicator = replicator_owing_a_backfill(urls[1], tmp_path, "eu-central-1")
    applies = []

    def restart_region_midway(operation):
        if operation != "ApplyChanges":
            return
        applies.append(1)
        if len(applies) == 2:  # one source copied; the region process is killed and comes back empty
            tables["eu-central-1"].delete_table(TableName=TABLE)
            tables["eu-central-1"].create_table(**table_definition(TABLE))

    before_each_call(replicator.clients["eu-central-1"].replication, restart_region_midway)
    for _attempt in range(3):  # the worker starts the backfill again while it is pending
        if not replicator.backfill.pending():
            break
        replicator.backfill.run("eu-central-1")
    assert replicator.backfill.pending() == []
    assert len(tables["eu-central-1"].scan(TableName=TABLE)["Items"]) == 40

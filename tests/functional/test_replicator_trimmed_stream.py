"""The replicator's reader behind a region's trim horizon (backend/local/replication/reader.py): on
TrimmedDataAccessException it re-reads from TRIM_HORIZON, says so in its errors, and goes on replicating.

A region never trims what the replicator has not durably done, so here the trims are forced past its checkpoint
(the only way a reader can fall behind the horizon: checkpoints lost, or a table trimmed by hand)."""

import time

import boto3
import pytest
from door_support import door_server
from moto_support import moto_server

from backend.local.dynamodb import patches
from backend.local.replication.replicator import Replicator
from backend.local.replication.wire import TrimmedDataAccessException
from backend.store import table_definition

REGIONS = ("us-west-1", "eu-south-1")
TABLE = "keyvalues"
SRC, DST = REGIONS


@pytest.fixture
def cloud(tmp_path):
    patches.install()  # as a region process does: the stream is an OffsetList, reads answer trims as AWS does
    with moto_server() as moto_url, door_server() as door_url:
        tables = {
            region: boto3.client(
                "dynamodb", region_name=region, endpoint_url=moto_url, aws_access_key_id="x", aws_secret_access_key="x"
            )
            for region in REGIONS
        }
        for c in tables.values():
            c.create_table(**table_definition(TABLE))
        config = {
            "table": TABLE,
            "regions": {region: f"{door_url}/{region}" for region in REGIONS},
            "state_dir": str(tmp_path / "state"),
            "network": "none",
            "delay": 0,
            "poll_interval_ms": 10,
        }
        started = []

        def start():
            replicator = Replicator(config)
            replicator.start()
            started.append(replicator)
            return replicator

        yield tables, start
        for replicator in started:
            if not replicator.stopping.is_set():
                replicator.stop()
        for c in tables.values():
            c.delete_table(TableName=TABLE)


def put(c, key):
    c.put_item(TableName=TABLE, Item={"key": {"S": key}, "value": {"S": key}})


def has(c, key):
    return "Item" in c.get_item(TableName=TABLE, Key={"key": {"S": key}})


def until(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def trim_everything(region):
    items = patches.stream_shard(region, TABLE).items
    items.trim_through(len(items), guarded=False)


NOTE = "records trimmed before they were read; reading again from TRIM_HORIZON"


def test_a_checkpoint_behind_the_trim_horizon_is_re_read_from_trim_horizon(cloud, caplog):
    tables, start = cloud
    replicator = start()
    put(tables[SRC], "before")
    assert until(lambda: has(tables[DST], "before"))
    replicator.stop()  # its checkpoint is saved; then records it never read are trimmed
    put(tables[SRC], "lost")
    trim_everything(SRC)
    put(tables[SRC], "after")
    replicator = start()
    assert until(lambda: has(tables[DST], "after"))
    reader = replicator.readers[SRC]
    assert reader.trimmed_reads == 1 and reader.reseeks >= 1
    assert not has(tables[DST], "lost")  # trimmed before it was read: gone, as on AWS
    assert any(NOTE in r.getMessage() and "seeking checkpoint" in r.getMessage() for r in caplog.records)


def test_a_read_behind_the_trim_horizon_re_seeks_from_trim_horizon(cloud, caplog):
    tables, start = cloud
    replicator = start()
    put(tables[SRC], "first")
    assert until(lambda: has(tables[DST], "first"))
    reader = replicator.readers[SRC]
    clients = reader.parts.clients[SRC]
    seeks, real_seek, real_read = [], clients.streams.get_shard_iterator, clients.replication.get_records
    raised = []

    def get_shard_iterator(**kwargs):
        seeks.append(kwargs["ShardIteratorType"])
        return real_seek(**kwargs)

    def get_records(**kwargs):
        if not raised:
            raised.append(True)
            raise TrimmedDataAccessException(400, "TrimmedDataAccessException", "trimmed")
        return real_read(**kwargs)

    clients.streams.get_shard_iterator = get_shard_iterator
    clients.replication.get_records = get_records
    try:
        assert until(lambda: reader.trimmed_reads == 1)
        put(tables[SRC], "second")
        assert until(lambda: has(tables[DST], "second"))
        assert seeks[0] == "TRIM_HORIZON"  # not the checkpoint: that is behind the horizon
        assert any(NOTE in r.getMessage() and "reading the stream" in r.getMessage() for r in caplog.records)
    finally:
        del clients.streams.get_shard_iterator, clients.replication.get_records

"""The backfill's isolation rule without any server: a paused target is not copied into until it is resumed."""

import threading
import time

from replicator_config import CENTRAL, WEST, offline_config

from backend.local.replication.replicator import Replicator
from backend.local.replication.wire import ConditionalCheckFailedException


class FakeTable:
    """Just what a backfill calls: describe_table, scan, put_item."""

    class exceptions:  # noqa: N801 - as boto3 and the wire client spell it
        ConditionalCheckFailedException = ConditionalCheckFailedException

    def __init__(self, items=()):
        self.items = list(items)
        self.puts = []

    def describe_table(self, **_):
        return {"Table": {"LatestStreamArn": "arn:1"}}

    def scan(self, **_):
        return {"Items": list(self.items)}

    def put_item(self, **kwargs):
        self.puts.append(kwargs["Item"]["key"]["S"])
        return {}


def item(key, ts=1000):
    return {"key": {"S": key}, "value": {"S": "v"}, "region": {"S": WEST}, "writtenAt": {"N": str(ts)}}


def test_a_backfill_waits_while_its_target_is_paused(tmp_path):
    config = offline_config(tmp_path)
    replicator = Replicator(config)
    source, target = FakeTable([item("a"), item("b")]), FakeTable()
    replicator.clients[WEST].dynamodb, replicator.clients[CENTRAL].dynamodb = source, target
    replicator.backfill.request(CENTRAL)
    replicator.pause(CENTRAL)
    copy = threading.Thread(target=replicator.backfill.run, args=(CENTRAL,), daemon=True)
    copy.start()
    time.sleep(0.3)
    assert target.puts == [] and replicator.backfill.pending() == [CENTRAL]
    replicator.resume(CENTRAL)
    copy.join(timeout=5)
    assert target.puts == ["a", "b"] and replicator.backfill.pending() == []

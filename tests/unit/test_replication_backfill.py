"""The backfill's isolation rule without any server: a paused target is not copied into until it is resumed."""

import threading
import time

from replicator_config import CENTRAL, WEST, offline_config

from backend.local.replication.replicator import Replicator


class FakeRegion:
    """Just what a backfill calls: describe_table, and the door's scan_versions and apply_changes."""

    def __init__(self, items=()):
        self.items = list(items)
        self.applied = []

    def describe_table(self, **_):
        return {"Table": {"LatestStreamArn": "arn:1"}}

    def scan_versions(self, **_):
        return {"KeyAttributes": ["key"], "Items": list(self.items),
                "Versions": [f"{1000 + n}:{WEST}" for n in range(len(self.items))], "Tombstones": []}  # fmt: skip

    def apply_changes(self, Changes, **_):  # noqa: N803 - the API's spelling
        self.applied += [change["Keys"]["key"]["S"] for change in Changes]
        return {"Applied": [True] * len(Changes), "Errors": [None] * len(Changes)}


def item(key):
    return {"key": {"S": key}, "anything": {"S": "v"}}


def test_a_backfill_waits_while_its_target_is_paused(tmp_path):
    config = offline_config(tmp_path)
    replicator = Replicator(config)
    source, target = FakeRegion([item("a"), item("b")]), FakeRegion()
    for region, fake in ((WEST, source), (CENTRAL, target)):
        replicator.clients[region].dynamodb = replicator.clients[region].replication = fake
    replicator.backfill.request(CENTRAL)
    replicator.pause(CENTRAL)
    copy = threading.Thread(target=replicator.backfill.run, args=(CENTRAL,), daemon=True)
    copy.start()
    time.sleep(0.3)
    assert target.applied == [] and replicator.backfill.pending() == [CENTRAL]
    replicator.resume(CENTRAL)
    copy.join(timeout=5)
    assert target.applied == ["a", "b"] and replicator.backfill.pending() == []

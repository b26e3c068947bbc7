"""Backfill of a region whose table was recreated (its process restarted: moto keeps nothing): every other region's
items are copied into it with the same conditional puts, as adding a replica to a global table does.

Rules the long chaos run taught (regression tests: tests/functional/test_chaos_backfill.py for the fencing and
the resuming, tests/unit/test_replication_config.py and test_replicator_core_flow.py for the reset grace):

- the copy is fenced by the target's table incarnation (its stream ARN): if the region restarts again meanwhile,
  the copy went partly into a table that is gone, so it is not done and starts again;
- a paused (isolated) target is not copied into: the backfill waits while it is paused;
- what the target already holds is not sent again, so an interrupted backfill resumes where it was;
- new streams this soon after a reset (``RESET_GRACE_S``) come from the reset itself: nothing to backfill.

``Backfill`` owns which regions are owed a backfill and which are being copied (its lock is a leaf).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from backend.local.replication import decisions
from backend.local.replication.applier import apply_change
from backend.local.replication.decisions import Change
from backend.local.replication.isolation import Isolation
from backend.local.replication.marked_deletes import MarkedDeletes
from backend.local.replication.metrics import Errors
from backend.local.replication.tombstones import SharedTombstones
from backend.local.replication.wire import RegionClients

log = logging.getLogger("backend.local.replicator")

RESET_GRACE_S = (
    30.0  # new streams this soon after POST /reset come from the reset itself: nothing to backfill
)


@dataclass
class BackfillParts:
    table: str
    clients: dict[str, RegionClients]
    tombstones: SharedTombstones
    isolation: Isolation
    marked_deletes: MarkedDeletes
    errors: Errors
    stopping: threading.Event
    dirty: threading.Event
    clock: Callable[[], float]


def _scan(dynamodb, table: str):
    start = None
    while True:
        page = dynamodb.scan(
            TableName=table, ConsistentRead=True, **({"ExclusiveStartKey": start} if start else {})
        )
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return


class Backfill:
    def __init__(self, names: Iterable[str], parts: BackfillParts):
        self.names = sorted(names)
        self.parts = parts
        self._lock = threading.Lock()
        # regions whose table was recreated (their process restarted): copy the other regions into them
        self._pending: set[str] = set()
        self._running: set[str] = set()
        self._last_reset: float | None = None

    def table_recreated(self, region: str) -> None:
        with self._lock:
            just_reset = (
                self._last_reset is not None and self.parts.clock() - self._last_reset < RESET_GRACE_S
            )
            if not just_reset:
                self._pending.add(region)
                self.parts.dirty.set()

    def request(self, region: str) -> None:
        """Owes ``region`` a backfill, whatever the reset grace (a saved state's pending backfills, tests)."""
        with self._lock:
            self._pending.add(region)

    def load(self, regions: Iterable[str]) -> None:
        with self._lock:
            self._pending = {name for name in regions if name in self.names}

    def pending(self) -> list[str]:
        with self._lock:
            return sorted(self._pending)

    def reset(self) -> None:
        """The data was reset: nothing is owed, and the tables recreated by the reset owe nothing either."""
        with self._lock:
            self._last_reset = self.parts.clock()
            self._pending.clear()

    def start_if_owed(self, dst: str) -> None:
        """Starts the backfill of ``dst`` in its own thread if it is owed one and none is running."""
        with self._lock:
            if dst not in self._pending or dst in self._running:
                return
            self._running.add(dst)
        threading.Thread(target=self.run, args=(dst,), name=f"backfill-{dst}", daemon=True).start()

    def run(self, dst: str) -> None:
        """The table of ``dst`` was recreated (its region process restarted and moto keeps nothing): copy every
        other region's items into it with the same conditional puts, as adding a replica to a global table does."""
        log.warning("%s: its table was recreated; copying the other regions' items into it", dst)
        parts = self.parts
        target = parts.clients[dst]
        try:
            # The table this copy is for: if the region restarts again meanwhile (its backfill waits while it is
            # fenced and paused), the copy went partly into a table that is gone, so it is not done.
            incarnation = target.dynamodb.describe_table(TableName=parts.table)["Table"].get(
                "LatestStreamArn"
            )
            # What the target already holds is not sent again: a backfill interrupted (the replicator killed, a
            # source restarting) starts over, and copying everything each time never finished under load.
            held = {
                item["key"]["S"]: decisions.item_version(item)
                for item in _scan(target.dynamodb, parts.table)
                if decisions.REPLICA_DELETE_MARK not in item
            }
            for src in self.names:
                if src != dst and not self._copy(src, dst, held):
                    return
            now = target.dynamodb.describe_table(TableName=parts.table)["Table"].get("LatestStreamArn")
            if now != incarnation:
                raise RuntimeError("the table was recreated during the copy; copying again")
            with self._lock:
                self._pending.discard(dst)
                parts.dirty.set()
            log.warning("%s: backfill done", dst)
        except Exception as error:  # a region went away mid-copy: the worker starts the backfill again
            parts.errors.note(dst, f"backfill: {type(error).__name__}: {error}")
            parts.stopping.wait(1.0)
        finally:
            with self._lock:
                self._running.discard(dst)

    def _copy(self, src: str, dst: str, held: dict) -> bool:
        """Copies the items of ``src`` that ``dst`` lacks or holds older; False if the replicator is stopping."""
        parts = self.parts
        target = parts.clients[dst]
        for item in _scan(parts.clients[src].dynamodb, parts.table):
            while parts.isolation.is_paused(dst) and not parts.stopping.is_set():
                parts.stopping.wait(0.1)
            if parts.stopping.is_set():
                return False
            version = decisions.item_version(item)
            if decisions.REPLICA_DELETE_MARK in item or version is None:
                continue
            key = item["key"]["S"]
            if held.get(key) is not None and not held[key] < version:
                continue
            change = Change(key, version, item, int(parts.clock() * 1000))
            apply_change(
                target.dynamodb, parts.table, change, parts.tombstones.get(key), parts.marked_deletes, dst
            )
            held[key] = version
        return True

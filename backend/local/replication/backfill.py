"""Backfill of a region whose table was recreated (its process restarted: moto keeps nothing): every other region's
items and tombstones are copied into it with their hidden versions, through the same door as replicated changes
(a region takes a change only if it is newer than what it holds), as adding a replica to a global table does.

Rules the long chaos run taught (regression tests: tests/functional/test_chaos_backfill.py for the fencing and
the resuming, tests/unit/test_replication_config.py and test_replicator_core_flow.py for the reset grace):

- the copy is fenced by the target's table incarnation (its stream ARN): if the region restarts again meanwhile,
  the copy went partly into a table that is gone, so it is not done and starts again;
- a paused (isolated) target is not copied into: the backfill waits while it is paused;
- a page of a source goes over in one door call, and what the target already holds at that version or newer is
  refused there, so an interrupted backfill simply starts again;
- new streams this soon after a reset (``RESET_GRACE_S``) come from the reset itself: nothing to backfill.

``Backfill`` owns which regions are owed a backfill and which are being copied (its lock is a leaf).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from backend.local.replication.isolation import Isolation
from backend.local.replication.metrics import Errors
from backend.local.replication.wire import RegionClients

log = logging.getLogger("backend.local.replicator")

RESET_GRACE_S = (
    30.0  # new streams this soon after POST /reset come from the reset itself: nothing to backfill
)


@dataclass
class BackfillParts:
    table: str
    clients: dict[str, RegionClients]
    isolation: Isolation
    errors: Errors
    stopping: threading.Event
    dirty: threading.Event
    clock: Callable[[], float]


def _pages(clients: RegionClients, table: str):
    """A source's table as door pages: each a list of changes (items, and tombstones on the last page), as wire
    dicts with their versions."""
    start = None
    while True:
        page = clients.replication.scan_versions(
            TableName=table, Limit=500, **({"ExclusiveStartKey": start} if start else {})
        )
        changes = [
            {"Keys": _keys_of(item, page.get("KeyAttributes")), "Item": item, "Version": version}
            for item, version in zip(page.get("Items", []), page.get("Versions", []), strict=True)
            if version is not None  # an item written before versions existed for it cannot be ordered
        ]
        changes += [{"Keys": gone["Keys"], "Item": None, "Version": gone["Version"]} for gone in page.get("Tombstones", [])]
        yield changes
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def _keys_of(item: dict, key_attributes: list[str] | None) -> dict:
    return {name: item[name] for name in key_attributes or ("key",)}


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
            for src in self.names:
                if src != dst and not self._copy(src, dst):
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

    def _copy(self, src: str, dst: str) -> bool:
        """Copies every item and tombstone of ``src`` into ``dst`` (``dst`` keeps what it holds newer); False if the
        replicator is stopping."""
        parts = self.parts
        target = parts.clients[dst]
        for changes in _pages(parts.clients[src], parts.table):
            while parts.isolation.is_paused(dst) and not parts.stopping.is_set():
                parts.stopping.wait(0.1)
            if parts.stopping.is_set():
                return False
            if changes:
                target.replication.apply_changes(TableName=parts.table, Changes=changes)
        return True

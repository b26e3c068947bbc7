"""Applying changes in a destination: ``apply_changes`` (one call of the region's door, which takes each change only
if it is newer than what the region holds, so applying twice is harmless) and the ``Applier`` threads of a
destination, which take due entries from the per-pair queues (``pairs.py``), up to ``APPLY_BATCH`` a call.

A paused destination applies nothing and its queues grow.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from backend.local.replication.decisions import Change
from backend.local.replication.isolation import Isolation
from backend.local.replication.metrics import Errors, Metrics
from backend.local.replication.pairs import Pairs
from backend.local.replication.wire import RegionClients

log = logging.getLogger("backend.local.replicator")


# Due entries one applier hands to its destination's door in one call. Each change is still checked and written on
# its own there; the batch saves the HTTP round trip and the request overhead per change (see bench/ sustained).
APPLY_BATCH = 32


def apply_changes(clients: RegionClients, table: str, changes: list[Change]) -> list[bool]:
    """Applies changes to a region's table through its door, in order; for each, True if the region took it (False:
    it held a newer version of the key). A change the region refuses outright (a key of the wrong type) is logged."""
    answer = clients.replication.apply_changes(TableName=table, Changes=[change.to_wire() for change in changes])
    for change, error in zip(changes, answer.get("Errors") or [], strict=False):
        if error:
            log.warning("%s: change of %s refused: %s", clients.region, change.key, error)
    return [bool(flag) for flag in answer.get("Applied", [])]


@dataclass
class ApplierParts:
    """What every applier shares with the rest of the replicator."""

    table: str
    clients: dict[str, RegionClients]
    pairs: Pairs
    isolation: Isolation
    metrics: Metrics
    errors: Errors
    stopping: threading.Event
    clock: Callable[[], float]
    batch: int = APPLY_BATCH  # config "apply_batch" (1: one change a call, as before batching)


class Applier:
    """One applier thread of destination ``dst``. ``each_round`` runs before each attempt to take an entry (the
    first applier of a destination starts its backfill from there)."""

    def __init__(self, dst: str, parts: ApplierParts, each_round: Callable[[], None] = lambda: None):
        self.dst = dst
        self.parts = parts
        self.each_round = each_round

    def run(self) -> None:
        parts, dst, pairs = self.parts, self.dst, self.parts.pairs
        clients = parts.clients[dst]
        warm_up(clients, dst, parts.table)
        backoff = 0.05
        while not parts.stopping.is_set():
            self.each_round()
            with pairs.cond:
                if parts.isolation.is_paused(dst):
                    pairs.cond.wait(0.1)
                    continue
                batch, wait_s = self._take_due_locked()
                if not batch:
                    pairs.cond.wait(wait_s)
                    continue
            try:
                apply_changes(clients, parts.table, [entry.change for _queue, entry in batch])
            except Exception as error:  # region down or restarting: keep the entries, retry
                for _queue, entry in batch:
                    pairs.retry(dst, entry)
                parts.errors.note(dst, f"applying: {type(error).__name__}: {error}")
                parts.stopping.wait(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.05
            parts.errors.clear(dst)
            for queue, entry in batch:
                self._done(queue, entry)

    def _take_due_locked(self) -> tuple[list, float]:
        """Up to APPLY_BATCH due entries (distinct keys: each is marked applying as it is taken), or none and how
        long to wait for the next one."""
        parts, dst, pairs = self.parts, self.dst, self.parts.pairs
        now_ms = int(parts.clock() * 1000)
        batch = []
        while len(batch) < parts.batch:
            queue, entry = pairs.next_entry_locked(dst)
            if entry is None or entry.due_ms > now_ms:
                wait_s = 0.1 if entry is None else min((entry.due_ms - now_ms) / 1000, 0.1)
                return batch, wait_s
            pairs.start_locked(dst, entry)
            batch.append((queue, entry))
        return batch, 0.0

    def _done(self, queue, entry) -> None:
        parts, dst = self.parts, self.dst
        now = parts.clock()
        if entry.seq is not None and entry.source != dst:
            parts.metrics.add(entry.source, dst, now, max(0, int(now * 1000) - entry.change.created_ms))
        parts.pairs.finish(dst, queue, entry)


def warm_up(clients: RegionClients, region: str, table: str) -> None:
    """One cheap call first: opens this thread's connection, so the first replicated write does not pay for it."""
    try:
        clients.dynamodb.describe_table(TableName=table)
    except Exception as error:  # the region may not be up yet: the apply loop retries anyway
        log.info("%s: warm-up call failed: %s", region, error)

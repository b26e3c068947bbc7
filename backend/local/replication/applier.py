"""Applying changes in a destination: ``apply_change`` (conditional writes, so applying twice is harmless) and the
``Applier`` threads of a destination, which take due entries from the per-pair queues (``pairs.py``).

A paused destination applies nothing and its queues grow. A change the destination refuses because it holds a
newer item sends that item back to the source (anti-entropy push-back).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from backend.local.replication import decisions
from backend.local.replication.decisions import Change
from backend.local.replication.delays import Delays
from backend.local.replication.isolation import Isolation
from backend.local.replication.marked_deletes import MarkedDeletes, new_mark
from backend.local.replication.metrics import Errors, Metrics
from backend.local.replication.pairs import Pairs
from backend.local.replication.tombstones import SharedTombstones
from backend.local.replication.wire import RegionClients

log = logging.getLogger("backend.local.replicator")


def apply_change(
    dynamodb, table: str, change: Change, tombstone, marks: MarkedDeletes | None = None, region: str = ""
) -> Change | None:
    """Applies one change to a region's table with conditional writes (so applying twice is harmless).

    Returns the destination's newer winner when it refused the change, for the push-back to the source. A delete
    registers each mark-then-delete attempt with ``marks`` (see ``marked_deletes.py``)."""
    errors = dynamodb.exceptions
    if not change.is_delete:
        if tombstone is not None and tombstone > change.version:
            return None  # deleted later: don't resurrect
        try:
            dynamodb.put_item(
                TableName=table,
                Item=change.item,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **decisions.put_condition(change),
            )
            return None
        except errors.ConditionalCheckFailedException as error:
            return _newer_winner(error, change)
    for _attempt in range(5):
        mark = new_mark(change.version.as_text())
        our_delete_failed = False
        if marks is not None:
            marks.begin(region, mark)
        try:
            try:
                dynamodb.update_item(
                    TableName=table,
                    Key={"key": {"S": change.key}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **decisions.delete_mark_condition(change, mark),
                )
            except errors.ConditionalCheckFailedException as error:
                return _newer_winner(error, change)  # absent, or newer than the delete
            try:
                dynamodb.delete_item(
                    TableName=table,
                    Key={"key": {"S": change.key}},
                    **decisions.delete_marked_condition(change, mark),
                )
                return None
            except errors.ConditionalCheckFailedException:
                # A local write replaced or deleted the marked item in between: decide again.
                our_delete_failed = True
                continue
        finally:
            if marks is not None:
                marks.finish(region, mark, our_delete_failed)
    return None


def _newer_winner(error, change: Change) -> Change | None:
    old = error.response.get("Item")
    version = decisions.item_version(old)
    if old is None or decisions.REPLICA_DELETE_MARK in old or version is None or not version > change.version:
        return None
    return Change(change.key, version, old, change.created_ms)


@dataclass
class ApplierParts:
    """What every applier shares with the rest of the replicator."""

    table: str
    clients: dict[str, RegionClients]
    pairs: Pairs
    tombstones: SharedTombstones
    delays: Delays
    isolation: Isolation
    marked_deletes: MarkedDeletes
    metrics: Metrics
    errors: Errors
    stopping: threading.Event
    clock: Callable[[], float]


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
                queue, entry = pairs.next_entry_locked(dst)
                if entry is None:
                    pairs.cond.wait(0.1)
                    continue
                wait_ms = entry.due_ms - int(parts.clock() * 1000)
                if wait_ms > 0:
                    pairs.cond.wait(min(wait_ms / 1000, 0.1))
                    continue
                tombstone = parts.tombstones.get(entry.change.key)
                pairs.start_locked(dst, entry)
            try:
                winner = apply_change(
                    clients.dynamodb, parts.table, entry.change, tombstone, parts.marked_deletes, dst
                )
            except Exception as error:  # region down or restarting: keep the entry, retry
                pairs.retry(dst, entry)
                parts.errors.note(dst, f"applying: {type(error).__name__}: {error}")
                parts.stopping.wait(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.05
            parts.errors.clear(dst)
            self._done(queue, entry, winner)

    def _done(self, queue, entry, winner: Change | None) -> None:
        parts, dst = self.parts, self.dst
        now = parts.clock()
        if entry.seq is not None and entry.source != dst:
            parts.metrics.add(entry.source, dst, now, max(0, int(now * 1000) - entry.change.created_ms))
        if winner is not None and entry.source != dst:
            due = int(parts.clock() * 1000) + parts.delays.delay_ms(dst, entry.source)
            parts.pairs.finish(dst, queue, entry, winner, due)
        else:
            parts.pairs.finish(dst, queue, entry)


def warm_up(clients: RegionClients, region: str, table: str) -> None:
    """One cheap call first: opens this thread's connection, so the first replicated write does not pay for it."""
    try:
        clients.dynamodb.describe_table(TableName=table)
    except Exception as error:  # the region may not be up yet: the apply loop retries anyway
        log.info("%s: warm-up call failed: %s", region, error)

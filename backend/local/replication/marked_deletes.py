"""Whose delete removed an item the replicator had marked: its own, or a local client's?

A replicated delete is two writes: mark the item (``REPLICA_DELETE_MARK`` = a mark unique to this attempt), then
delete it on condition that the mark is still there. A client of the region can delete the item in between. Both
deletes leave the same REMOVE record (the old image carries the mark), but they are not the same write: the
client's delete is newer and must be replicated, or its version is lost and an older put still in flight comes
back. Only the replicator can tell them apart: its own conditional delete failed.

So each attempt is registered while it is in flight, and a failed delete of a marked item is remembered. The stream
reader asks ``removed_by_someone_else`` for a REMOVE of a marked item; it waits while that attempt is still in flight
(the record can be read before the applier hears back). Nothing here is saved: after a kill -9 the reader treats
such a record as the replicator's own, which is what it did before this existed (the data is deleted either way).
"""

from __future__ import annotations

import threading
import time
import uuid

KEEP_S = 600.0  # a failed attempt whose REMOVE never comes (a client's put replaced the marked item) is forgotten
# A REMOVE with our mark exists only once the mark is set, so what is left of that attempt is its delete call:
# at most two tries of the wire client's 10 s timeout (wire.py). Waiting longer never happens.
WAIT_S = 25.0


def new_mark(version_text: str) -> str:
    """A mark no other attempt uses, so a REMOVE record names exactly one attempt."""
    return f"{version_text}#{uuid.uuid4().hex[:16]}"


class MarkedDeletes:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._cond = threading.Condition()
        self._in_flight: set[tuple[str, str]] = set()  # (region, mark)
        self._failed: dict[tuple[str, str], float] = {}  # (region, mark) -> when our delete failed

    def begin(self, region: str, mark: str) -> None:
        with self._cond:
            self._in_flight.add((region, mark))

    def finish(self, region: str, mark: str, our_delete_failed: bool) -> None:
        """``our_delete_failed``: the item was marked and our conditional delete of it was refused."""
        with self._cond:
            self._in_flight.discard((region, mark))
            if our_delete_failed:
                self._failed[(region, mark)] = self._clock()
            self._forget_old_locked()
            self._cond.notify_all()

    def removed_by_someone_else(self, region: str, mark: str, wait_s: float = WAIT_S) -> bool:
        with self._cond:
            self._cond.wait_for(lambda: (region, mark) not in self._in_flight, timeout=wait_s)
            return self._failed.pop((region, mark), None) is not None

    def __len__(self) -> int:
        with self._cond:
            return len(self._failed)

    def _forget_old_locked(self) -> None:
        horizon = self._clock() - KEEP_S
        for key in [k for k, at in self._failed.items() if at < horizon]:
            del self._failed[key]

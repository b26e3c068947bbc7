"""What has been read from each source and what is done in each destination: the per-pair FIFO queues.

One stream record of a source becomes entries of per-pair queues (source → each other region), due at the record's creation time + the pair's delay. Appliers take due entries (never two entries of
one key at once, and per pair in order) and mark them done; done entries leave a queue once everything before
them is done, so the first entry of a queue says how far the pair is done (``checkpoints.done_upto``).

Everything here is under one condition, ``Pairs.cond``, and must stay so: a checkpoint is computed from the read
position of the source and the queue of the pair together (a record read but not yet queued would count as done),
and the stream ARN those positions belong to changes with them. Whoever holds ``cond`` may take the leaf locks of
the other parts (delays, metrics, backfill), never the other way round. Methods named ``*_locked``
expect ``cond`` held.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from backend.local.replication import checkpoints
from backend.local.replication.decisions import Change

log = logging.getLogger("backend.local.replicator")

WAITING, APPLYING, DONE = 0, 1, 2
SCAN_WINDOW = 64  # how far into a pair's queue appliers look for a key nobody is applying


@dataclass
class Entry:
    due_ms: int
    seq: int | None  # the source record's sequence number
    prev_seq: int | None  # the source's sequence read just before this record: "done up to" while this waits
    change: Change
    source: str
    state: int = (
        0  # WAITING, APPLYING or DONE; done entries leave the queue once everything before them is done
    )


class Pairs:
    def __init__(self, names: Iterable[str], dirty: threading.Event):
        self.names = sorted(names)
        self.dirty = dirty  # set on every change the state file should get
        self.cond = threading.Condition()
        # -- the state below is guarded by self.cond --
        self.streams: dict[str, str | None] = {name: None for name in self.names}
        self.floor: dict[tuple[str, str], int | None] = {}  # per-pair checkpoint loaded from the state file
        self.read_upto: dict[str, int | None] = {name: None for name in self.names}
        self.events_at_read_upto: dict[str, set] = {name: set() for name in self.names}
        self.discard_before_ms: dict[str, int | None] = {name: None for name in self.names}
        self.queues: dict[tuple[str, str], deque[Entry]] = {
            (src, dst): deque() for src in self.names for dst in self.names
        }
        self.applying_keys: dict[str, set[str]] = {name: set() for name in self.names}

    # ---------------------------------------------------------------- reading side

    def advance_locked(self, src: str, seq: int, event) -> tuple[bool, int | None]:
        """Moves the read position of ``src`` to ``seq``: (False, _) if that record was read already, else
        (True, the sequence read before it)."""
        previous = self.read_upto[src]
        # Already read (a re-seek overlaps)? moto without the janitor's lock can give two concurrent writes the
        # same sequence number, so a record at the last sequence read is skipped only if it is the same event.
        if previous is not None and seq < previous:
            return False, previous
        if previous is not None and seq == previous and event in self.events_at_read_upto[src]:
            return False, previous
        if seq != previous:
            self.events_at_read_upto[src] = set()
        self.events_at_read_upto[src].add(event)
        self.read_upto[src] = seq
        return True, previous

    def discarded_locked(self, src: str, created_ms: int) -> bool:
        discard_before = self.discard_before_ms[src]
        return discard_before is not None and created_ms < discard_before  # written before a reset

    def enqueue_locked(self, src: str, dst: str, entry: Entry) -> None:
        floor = self.floor.get((src, dst))
        if entry.seq is not None and floor is not None and entry.seq <= floor:
            return  # this pair had done it before a restart
        self.queues[(src, dst)].append(entry)

    def read_locked(self) -> None:
        """A batch of records was taken: save it soon and wake the appliers."""
        self.dirty.set()
        self.cond.notify_all()

    def stream_seen_locked(self, src: str, arn: str) -> bool:
        """The stream ``src`` is read from now; True if it replaced another (the table was recreated)."""
        replaced = self.streams[src] is not None and self.streams[src] != arn
        if replaced:
            self._forget_stream_locked(src)
        self.streams[src] = arn
        return replaced

    def _forget_stream_locked(self, src: str) -> None:
        """The table was recreated (a new stream): positions in the old one mean nothing now."""
        log.warning("%s: the table has a new stream; reading it from the start", src)
        for dst in self.names:
            self.floor.pop((src, dst), None)
            for entry in self.queues[(src, dst)]:
                entry.seq = entry.prev_seq = None
        self.read_upto[src] = None

    def seeked(self, src: str, resume: int | None) -> None:
        with self.cond:
            self.read_upto[src] = resume if self.read_upto[src] is None else self.read_upto[src]

    def stream(self, src: str) -> str | None:
        with self.cond:
            return self.streams[src]

    # ---------------------------------------------------------------- checkpoints

    def done_upto_locked(self, src: str, dst: str) -> int | None:
        """Largest sequence S of src such that every record <= S is done for dst (None: nothing known done)."""
        queue = self.queues[(src, dst)]
        head_prev = queue[0].prev_seq if queue else None
        return checkpoints.done_upto(head_prev, not queue, self.read_upto[src], self.floor.get((src, dst)))

    def resume_point_locked(self, src: str) -> int | None:
        return checkpoints.resume_point(self.done_upto_locked(src, dst) for dst in self.names)

    # ---------------------------------------------------------------- applying side

    def next_entry_locked(self, dst: str) -> tuple[deque | None, Entry | None]:
        """The earliest-due waiting entry whose key no applier of ``dst`` is busy with and that has no earlier
        unfinished entry of the same key in its queue: per-key order holds with several appliers."""
        best_queue, best = None, None
        busy = self.applying_keys[dst]
        for queue in (self.queues[(src, dst)] for src in self.names):
            held: set[str] = set()
            for position, entry in enumerate(queue):
                if position >= SCAN_WINDOW:
                    break
                key = entry.change.key
                if entry.state == WAITING and key not in held and key not in busy:
                    if best is None or entry.due_ms < best.due_ms:
                        best_queue, best = queue, entry
                    break  # later entries of a queue are due later
                if entry.state != DONE:
                    held.add(key)
        return best_queue, best

    def start_locked(self, dst: str, entry: Entry) -> None:
        entry.state = APPLYING
        self.applying_keys[dst].add(entry.change.key)

    def retry(self, dst: str, entry: Entry) -> None:
        """The apply failed (region down or restarting): the entry waits again."""
        with self.cond:
            entry.state = WAITING
            self.applying_keys[dst].discard(entry.change.key)

    def finish(self, dst: str, queue: deque, entry: Entry) -> None:
        """``entry`` is applied in ``dst`` (or refused there: it held a newer version)."""
        with self.cond:
            entry.state = DONE
            self.applying_keys[dst].discard(entry.change.key)
            while queue and queue[0].state == DONE:
                queue.popleft()
            self.dirty.set()
            self.cond.notify_all()

    def backlog_locked(self, src: str, dst: str) -> int:
        """Records read from src and not yet applied in dst."""
        return sum(entry.state != DONE for entry in self.queues[(src, dst)])

    def backlog(self, src: str, dst: str) -> int:
        with self.cond:
            return self.backlog_locked(src, dst)

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def reset(self, now_ms: int) -> None:
        """Forgets everything pending (the data was reset) and skips records created before ``now_ms``."""
        with self.cond:
            for queue in self.queues.values():
                queue.clear()
            for name in self.names:
                self.discard_before_ms[name] = now_ms
            self.dirty.set()
            self.cond.notify_all()

    # ---------------------------------------------------------------- state file

    def sources_json_locked(self) -> dict:
        sources = {}
        for src in self.names:
            done = {dst: self.done_upto_locked(src, dst) for dst in self.names}
            sources[src] = {
                "stream": self.streams[src],
                "checkpoints": {dst: None if seq is None else str(seq) for dst, seq in done.items()},
                "discard_before_ms": self.discard_before_ms[src],
            }
        return sources

    def load(self, state: dict) -> None:
        """The positions and per-pair checkpoints (floors) of a saved state."""
        with self.cond:
            for src, saved in state.get("sources", {}).items():
                if src not in self.streams:
                    continue
                self.streams[src] = saved.get("stream")
                self.discard_before_ms[src] = saved.get("discard_before_ms")
                for dst, seq in saved.get("checkpoints", {}).items():
                    if dst in self.streams:
                        self.floor[(src, dst)] = None if seq is None else int(seq)

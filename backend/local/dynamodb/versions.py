"""Hidden per-item versions: what a global table's last writer wins orders writes by, kept by each region.

AWS (version 2019.11.21, "How DynamoDB global tables work", conflict resolution; see docs/FIDELITY.md) resolves
concurrent writes to one item by last writer wins on a timestamp DynamoDB keeps itself, not on any attribute a client
sees. So here every change of an item (in a table with a stream: every global table has one) gets a ``Version``:

    (ts_us, region)    the region's clock in microseconds when the write happened there; the region breaks ties

- A **local write** (any client: PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems, PartiQL; they
  all reach moto's ``StreamShard.add``) takes ``max(clock, newest version of the key + 1 µs)``: a write never loses to
  the item it replaced in its own region (so no region ever needs repairing), while concurrent writes in two regions
  are ordered by the two regions' clocks (a region whose clock runs behind really loses, as on AWS).
- A **replicated write** (the replicator, through ``apply``) is taken only if it is newer than what the region holds
  for the key, item or tombstone; per item, a replica never applies an older version over a newer one.
- A delete leaves a **tombstone** (key → delete version) so that an older put still in flight cannot bring the item
  back; tombstones are kept ``TOMBSTONE_TTL_S`` and at most ``TOMBSTONE_CAP`` per table (oldest dropped first).

The versions live on moto's ``Table`` object itself (``table_versions``): a recreated table starts with none, a
deleted one takes them along. Each stream record is tagged with its version and whether it was a replicated write;
clients never see either (``StreamRecord.to_json`` shows them only inside ``revealed()``, which the replicator's
door uses). All of this runs under ``patches.WRITE_LOCK``, as every moto write does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

TOMBSTONE_TTL_S = 3600.0  # AWS documents no figure; long enough for any in-flight write of a running demo
TOMBSTONE_CAP = 100_000  # per table: ~100 bytes each, so at most ~10 MB per region

Version = tuple  # (ts_us: int, region: str); tuples order as last writer wins wants


def as_text(version: Version) -> str:
    return f"{version[0]}:{version[1]}"


def from_text(text: str) -> Version:
    ts, _, region = str(text).partition(":")
    if not ts.isdigit() or not region:
        raise ValueError(f"not a version: {text!r} (expected '<microseconds>:<region>')")
    return int(ts), region


class TableVersions:
    """The versions of one table's items and its tombstones (both key → Version; tombstones in deletion order)."""

    def __init__(self):
        self.live: dict = {}
        self.tombstones: dict = {}

    def newest(self, key) -> Version | None:
        held, gone = self.live.get(key), self.tombstones.get(key)
        if held is None or (gone is not None and gone > held):
            return gone
        return held

    def next_local(self, key, now_us: int, region: str) -> Version:
        newest = self.newest(key)
        if newest is not None and newest[0] >= now_us:
            return newest[0] + 1, region
        return now_us, region

    def accepts(self, key, version: Version) -> bool:
        newest = self.newest(key)
        return newest is None or version > newest

    def stored(self, key, version: Version) -> None:
        self.live[key] = version
        self.tombstones.pop(key, None)

    def deleted(self, key, version: Version, now_us: int) -> None:
        self.live.pop(key, None)
        self.tombstones.pop(key, None)  # re-inserted last: the dict stays in deletion order
        self.tombstones[key] = version
        self._prune(now_us)

    def _prune(self, now_us: int) -> None:
        oldest_kept = now_us - int(TOMBSTONE_TTL_S * 1_000_000)
        while self.tombstones:
            key, version = next(iter(self.tombstones.items()))
            if len(self.tombstones) <= TOMBSTONE_CAP and version[0] >= oldest_kept:
                return
            del self.tombstones[key]


class _Clock:
    now_us: Callable[[], int] = staticmethod(lambda: time.time_ns() // 1000)


_clock = _Clock()
_context = threading.local()


def set_clock(now_us: Callable[[], int]) -> None:
    """The clock local writes are stamped with (µs; the region's clock-offset fault moves it; tests fix it)."""
    _clock.now_us = now_us


def now_us() -> int:
    return _clock.now_us()


def table_versions(table) -> TableVersions:
    versions = getattr(table, "mrkv_versions", None)
    if versions is None:
        versions = table.mrkv_versions = TableVersions()
    return versions


def key_of(table, item):
    """An item's key as the versions store it: the hash key's value, or (hash, range) values."""
    if table.range_key_attr is None:
        return item.hash_key.value
    return item.hash_key.value, item.range_key.value


def key_from_json(table, attributes: dict):
    """The same key from a DynamoDB JSON attribute map (a stream record's Keys, a scanned item)."""
    hash_value = next(iter(attributes[table.hash_key_attr].values()))
    if table.range_key_attr is None:
        return hash_value
    return hash_value, next(iter(attributes[table.range_key_attr].values()))


@contextmanager
def replicating(version: Version) -> Iterator[None]:
    """Writes in this block are the replicator's, at ``version`` (not stamped with the local clock)."""
    _context.replicating = version
    try:
        yield
    finally:
        _context.replicating = None


@contextmanager
def revealed() -> Iterator[None]:
    """Stream records read in this block show their hidden version (the replicator's door only)."""
    _context.revealed = True
    try:
        yield
    finally:
        _context.revealed = False


def is_revealed() -> bool:
    return getattr(_context, "revealed", False)


def last_local_write() -> Version | None:
    """The version of the last local write this thread made, then forgotten (the gateway reports it)."""
    version = getattr(_context, "last_local", None)
    _context.last_local = None
    return version


@contextmanager
def committing(version: Version) -> Iterator[None]:
    """Writes in this block are local writes at ``version`` (a strongly consistent write the other regions already
    accepted, ``strong_protocol.py``): stamped with it, and forwarded by the replicator as any local write."""
    _context.committing = version
    try:
        yield
    finally:
        _context.committing = None


class Capture:
    """What one write would change, seen without changing anything: the first old image and the last new one
    (an UpdateItem of a new item reaches the stream twice)."""

    def __init__(self):
        self.happened = False
        self.old = self.new = None

    def see(self, old, new) -> None:
        if not self.happened:
            self.old, self.happened = old, True
        self.new = new


@contextmanager
def capturing() -> Iterator[Capture]:
    """Item changes in this block are recorded in the ``Capture`` and reach neither the versions nor the stream
    (``replica_door``'s hook asks ``capture_of_thread``); the caller undoes the change in the table itself."""
    capture = Capture()
    _context.capture = capture
    try:
        yield capture
    finally:
        _context.capture = None


def capture_of_thread() -> Capture | None:
    return getattr(_context, "capture", None)


def is_replicating() -> bool:
    return getattr(_context, "replicating", None) is not None or getattr(_context, "committing", None) is not None


def on_change(table, old, new) -> tuple[Version, bool]:
    """Called (under the write lock) for every change of an item, before its stream record exists: records the
    version and returns it with whether the write was replicated."""
    versions = table_versions(table)
    key = key_of(table, new if new is not None else old)
    given = getattr(_context, "replicating", None)
    committed = getattr(_context, "committing", None)
    clock = _clock.now_us()
    if given is not None:
        version, replica = given, True
    elif committed is not None:
        version, replica = committed, False
        _context.last_local = version
    else:
        version, replica = versions.next_local(key, clock, table.region_name), False
        _context.last_local = version
    if new is None:
        versions.deleted(key, version, clock)
    else:
        versions.stored(key, version)
    return version, replica

"""Tombstones: the newest delete version per key, so that an older put still in flight cannot resurrect the key.

``Tombstones`` is the pure structure (the model-based test uses it as is); ``SharedTombstones`` is the replicator's
one instance, shared by the stream readers (record), the appliers and the backfill (get), the housekeeper (prune)
and the state file (to_json). Its lock is a leaf: nothing is called while it is held.
"""

from __future__ import annotations

import threading

from backend.local.replication.decisions import Version


class Tombstones:
    """Newest delete version per key, so an older put still in flight can't bring a deleted key back.

    Bounded by ``prune``: tombstones older than a horizon are dropped (a put older than that would have to have
    been in flight, e.g. into a paused region, for longer than the horizon)."""

    def __init__(self, entries: dict[str, Version] | None = None):
        self._entries: dict[str, Version] = dict(entries or {})

    def get(self, key: str) -> Version | None:
        return self._entries.get(key)

    def record(self, key: str, version: Version) -> None:
        current = self._entries.get(key)
        if current is None or version > current:
            self._entries[key] = version

    def prune(self, older_than_ms: int) -> int:
        stale = [key for key, version in self._entries.items() if version.ts < older_than_ms]
        for key in stale:
            del self._entries[key]
        return len(stale)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def to_json(self) -> dict:
        return {key: version.as_text() for key, version in self._entries.items()}

    @classmethod
    def from_json(cls, data: dict) -> Tombstones:
        return cls({key: Version.from_text(text) for key, text in (data or {}).items()})


class SharedTombstones:
    """The replicator's tombstones, safe to use from every thread."""

    def __init__(self, tombstones: Tombstones | None = None):
        self._lock = threading.Lock()
        self._tombstones = tombstones or Tombstones()

    def get(self, key: str) -> Version | None:
        with self._lock:
            return self._tombstones.get(key)

    def record(self, key: str, version: Version) -> None:
        with self._lock:
            self._tombstones.record(key, version)

    def prune(self, older_than_ms: int) -> int:
        with self._lock:
            return self._tombstones.prune(older_than_ms)

    def clear(self) -> None:
        with self._lock:
            self._tombstones.clear()

    def replace(self, tombstones: Tombstones) -> None:
        with self._lock:
            self._tombstones = tombstones

    def __len__(self) -> int:
        with self._lock:
            return len(self._tombstones)

    def to_json(self) -> dict:
        with self._lock:
            return self._tombstones.to_json()

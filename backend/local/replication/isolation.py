"""Isolation of a destination (``POST /pause`` / ``/resume``): a paused destination applies nothing and its queues
grow; on resume it catches up in order. Pauses are saved with the state, so they survive a restart.

Its lock is a leaf. ``on_resume`` wakes whoever waits for work (the appliers wait on the queues' condition)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


class Isolation:
    def __init__(self, regions: Iterable[str], on_resume: Callable[[], None] = lambda: None):
        self._regions = frozenset(regions)
        self._lock = threading.Lock()
        self._paused: set[str] = set()
        self._on_resume = on_resume

    def check_region(self, region) -> None:
        if region not in self._regions:
            raise ValueError(f"unknown region {region!r}; known: {', '.join(sorted(self._regions))}")

    def pause(self, region: str) -> None:
        self.check_region(region)
        with self._lock:
            self._paused.add(region)

    def resume(self, region: str) -> None:
        self.check_region(region)
        with self._lock:
            self._paused.discard(region)
        self._on_resume()

    def is_paused(self, region: str) -> bool:
        with self._lock:
            return region in self._paused

    def paused(self) -> list[str]:
        with self._lock:
            return sorted(self._paused)

    def load(self, names: Iterable[str]) -> None:
        """The pauses of a saved state (regions no longer configured are dropped)."""
        with self._lock:
            self._paused = {name for name in names if name in self._regions}

"""Shared plumbing of the probes: parameter checks, progress reporting from the caller's thread, unique ids.

Callbacks (``progress(done, total, message)`` and ``on_sample(row)``) are always called from the thread that called
the probe, never from a worker thread: Streamlit can only draw from its script thread.
"""

from __future__ import annotations

import time
import uuid

from dashboard.measure.errors import ProbeError


def run_id() -> str:
    """Short unique id: keys written by a probe carry it, so runs never collide (nor with a user's keys)."""
    return uuid.uuid4().hex[:10]


def positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ProbeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def positive_float(
    name: str, value, allow_none: bool = False, minimum_exclusive: float = 0.0
) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > minimum_exclusive:
        raise ProbeError(f"{name} must be a number > {minimum_exclusive:g}, got {value!r}")
    return float(value)


class Progress:
    """Calls ``progress(done, total, message)`` at most every ``interval_s`` (and always for the last step)."""

    def __init__(self, callback, total: int, interval_s: float = 0.1, clock=time.monotonic):
        self._callback = callback
        self.total = total
        self._interval = interval_s
        self._clock = clock
        self._last = -1e9

    def __call__(self, done: int, message: str = "", force: bool = False) -> None:
        if self._callback is None:
            return
        now = self._clock()
        if force or done >= self.total or now - self._last >= self._interval:
            self._last = now
            self._callback(done, self.total, message)

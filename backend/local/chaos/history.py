"""The history of a fault run: every client operation as Jepsen-style events, in the order they happened.

Each operation is an ``invoke`` event and one completion: ``ok`` (it happened), ``fail`` (it certainly did not) or
``info`` (unknown); ``checker.py`` says what they mean. The runner adds ``fault``, ``lag`` and ``phase`` events.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path


class History:
    """Thread-safe list of events, each stamped with seconds since the run began; optionally streamed to JSONL."""

    def __init__(self, path: str | Path | None = None):
        self.t0 = time.monotonic()
        self.events: list[dict] = []
        self._lock = threading.Lock()
        self._file = open(path, "w") if path else None  # noqa: SIM115 - closed by close()

    def now(self) -> float:
        return round(time.monotonic() - self.t0, 4)

    def record(self, **event) -> dict:
        with self._lock:
            event = {"t": self.now(), **event}
            self.events.append(event)
            if self._file:
                self._file.write(json.dumps(event) + "\n")
        return event

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None

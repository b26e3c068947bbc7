"""Recording a run while it runs: ``with Recording(store, kind, context) as rec: ... rec.complete(frames)``.

The probe's ``on_sample`` rows are buffered and flushed into the store as chunks (every ``flush_rows`` rows or
``flush_s`` seconds), so a dashboard can read a run in progress and a run cut short keeps what it measured.
``complete(frames, summary)`` replaces the streamed rows by the probe's final frames (sorted, with the columns a
probe adds at the end, e.g. failover's ``phase``) and marks the run complete. Leaving the block without it:
``stopped`` on KeyboardInterrupt (Ctrl-C) or any other BaseException that is not an error (Streamlit's stop and
rerun), ``failed`` with the error's message on an exception; the exception goes on either way.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pandas as pd

from dashboard.measure import samples
from dashboard.measure.common import run_id
from dashboard.measure.runs.store import RunStore, writer_id

KINDS = ("latency", "lag", "conflict", "failover", "ping", "consistency")
# The frame whose rows a run counts as its samples, and which its on_sample rows are.
MAIN_FRAME = {
    "latency": "samples",
    "lag": "samples",
    "conflict": "results",
    "failover": "samples",
    "ping": "samples",
    "consistency": "samples",
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rows_to_frame(kind: str, rows: list[dict]) -> pd.DataFrame:
    """Streamed rows as a frame of the kind's own schema (timestamps as UTC datetimes)."""
    if kind in ("latency", "failover"):
        return samples.to_frame(rows)
    df = pd.DataFrame(rows)
    if "timestamp" in df.columns and pd.api.types.is_numeric_dtype(df["timestamp"]):
        df["timestamp"] = pd.to_datetime(df["timestamp"], unit="s", utc=True)
    return df


class Recording:
    def __init__(
        self,
        store: RunStore,
        kind: str,
        context: dict,
        name: str | None = None,
        flush_rows: int = 5000,
        flush_s: float = 1.0,
        clock=time.monotonic,
    ):
        if kind not in KINDS:
            raise ValueError(f"unknown run kind {kind!r}; one of {', '.join(KINDS)}")
        self.store = store
        self.kind = kind
        self.context = context
        self.name = name or None
        self.id = run_id()
        self._flush_rows = flush_rows
        self._flush_s = flush_s
        self._clock = clock
        self._buffer: list[dict] = []
        self._last_flush = clock()
        self.status = "running"

    def __enter__(self) -> Recording:
        self.store.create_run(
            {
                "id": self.id,
                "name": self.name,
                "kind": self.kind,
                "status": "running",
                "started_at": now_iso(),
                "environment": self.context.get("environment"),
                "client_location": ((self.context.get("client_location") or {}).get("name")),
                "network": (self.context.get("network") or {}).get("profile"),
                "context": self.context,
                "writer": writer_id(),
            }
        )
        return self

    def on_sample(self, row: dict) -> None:
        self._buffer.append(dict(row))
        if len(self._buffer) >= self._flush_rows or self._clock() - self._last_flush >= self._flush_s:
            self.flush()

    def tee(self, callback):
        """An ``on_sample`` that records the row, then calls ``callback`` (a page's live chart)."""

        def both(row: dict) -> None:
            self.on_sample(row)
            if callback is not None:
                callback(row)

        return both

    def flush(self) -> None:
        rows, self._buffer = self._buffer, []
        self._last_flush = self._clock()
        if rows:
            self.store.append(self.id, MAIN_FRAME[self.kind], rows_to_frame(self.kind, rows))

    def complete(self, frames: dict[str, pd.DataFrame], summary: dict | None = None) -> None:
        self._buffer = []
        self.store.replace_frames(self.id, frames, main=MAIN_FRAME[self.kind])
        self.store.finish(self.id, "complete", now_iso(), summary=summary)
        self.status = "complete"

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.status != "running":
            return False
        self.flush()
        if exc_type is None or not issubclass(exc_type, Exception):
            self.status, error = "stopped", None if exc_type is None else exc_type.__name__
        else:
            self.status, error = "failed", str(exc) or exc_type.__name__
        self.store.finish(self.id, self.status, now_iso(), error=error)
        return False

"""ReplicationLatency per source → destination pair, as the CloudWatch metric (ms), and the pairs' summaries,
with each pair's PendingReplicationCount (its backlog).

``Metrics`` has its own lock, a leaf. The backlog of a pair is the queues' to count (``pairs.py``); summaries take it
as a function, so this module knows nothing of queues."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable

log = logging.getLogger("backend.local.replicator")

LATENCY_SAMPLES = 2000


class PairStats:
    """ReplicationLatency of one source → destination pair, as the CloudWatch metric (ms)."""

    def __init__(self):
        self.samples: deque[tuple[float, int]] = deque(maxlen=LATENCY_SAMPLES)  # (applied at, ms)
        self.applied = 0
        self.last_apply: float | None = None

    def add(self, at: float, latency_ms: int) -> None:
        self.samples.append((at, latency_ms))
        self.applied += 1
        self.last_apply = at

    def summary(self) -> dict:
        values = sorted(ms for _, ms in self.samples)
        return {
            "count": self.applied,
            "p50_ms": _quantile(values, 0.50),
            "p99_ms": _quantile(values, 0.99),
            "max_ms": values[-1] if values else None,
            "last_apply": self.last_apply,
        }


def _quantile(values: list[int], q: float) -> int | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


class Metrics:
    """The PairStats of every pair of distinct regions."""

    def __init__(self, names: Iterable[str]):
        names = sorted(names)
        self._pairs = [(src, dst) for src in names for dst in names if src != dst]
        self._lock = threading.Lock()
        self._stats = {pair: PairStats() for pair in self._pairs}

    def add(self, src: str, dst: str, at: float, latency_ms: int) -> None:
        with self._lock:
            self._stats[(src, dst)].add(at, latency_ms)

    def reset(self) -> None:
        with self._lock:
            self._stats = {pair: PairStats() for pair in self._pairs}

    def summaries(self, backlog: Callable[[str, str], int], recent: int = 0) -> list[dict]:
        """One summary per pair, sorted: the stats, the pair's backlog and, if ``recent``, its last samples."""
        with self._lock:
            taken = []
            for pair in sorted(self._pairs):
                stats = self._stats[pair]
                samples = list(stats.samples)[-recent:] if recent else []
                taken.append((pair, stats.summary(), samples))
        pairs = []
        for (src, dst), summary, samples in taken:  # backlog() takes the queues' lock: not while holding ours
            pending = backlog(src, dst)
            # CloudWatch's PendingReplicationCount: item updates written in src and not yet written in dst
            summary.update(source=src, destination=dst, backlog=pending, pending_replication_count=pending)
            if recent:
                summary["recent"] = [{"at": at, "ms": ms} for at, ms in samples]
            pairs.append(summary)
        return pairs


class Errors:
    """The last error of each region (reading its stream, applying into it, backfilling it), for the status."""

    def __init__(self):
        self._lock = threading.Lock()
        self._errors: dict[str, str] = {}

    def note(self, region: str, message: str) -> None:
        with self._lock:
            changed = self._errors.get(region) != message
            self._errors[region] = message
        if changed:
            log.warning("%s: %s", region, message)

    def clear(self, region: str) -> None:
        with self._lock:
            self._errors.pop(region, None)

    def to_json(self) -> dict[str, str]:
        with self._lock:
            return dict(self._errors)

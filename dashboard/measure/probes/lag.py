"""Replication-lag probe: write a unique value in a source region, poll every destination until it shows up.

``run_lag(target_set, source, destinations, probes=10, timeout_s=10.0, progress=None, on_sample=None, ...)``
returns one row per (probe, destination) -- ``LAG_COLUMNS``. Timeouts are rows with ``status="timeout"`` (and
``lag_low_ms``: the lag was at least that), never dropped; a failed write gives ``status="write_failed"`` rows.
``lag_math.lag_summary(df)`` summarizes them per source -> destination pair (probes, seen, timeouts, lag p50 /
p90 / p99 / max, median resolution); ``lag_reference.reference_lag`` gives the system's own figures for the same
window.

The method (how a poll's moment, the lag and its resolution are estimated) is in ``lag_math``.

Polling is adaptive and overlapping: polls are *launched* on a schedule -- immediately after the write is
acknowledged, then every ``min_interval_ms`` growing by ``backoff`` up to ``max_interval_ms`` -- on up to
``max_in_flight`` keep-alive connections per destination, so a destination 150 ms away is still sampled every few
ms. The schedule learns: once a destination has shown a value, later probes poll it every ``min_interval_ms``
across the window where the earlier ones first saw theirs (``dense_window``: their spread +-25 %, +-20 ms), and
sparsely before and after it, so the resolution stays near ``min_interval_ms`` without polling all the time.
The resolution achieved is reported for every probe (``resolution_ms``): it is the interval between polls around
the moment of first sighting, plus the spread of their one-way estimates.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from dashboard.measure.common import Progress, positive_float, positive_int, run_id
from dashboard.measure.errors import ProbeError
from dashboard.measure.probes.lag_math import dense_window, lag_from_polls, moment_of, poll_schedule
from dashboard.measure.targets import GLOBAL, TargetSet
from dashboard.measure.timed_client import TimedClient, TimedResult

LAG_COLUMNS = [
    "probe",
    "timestamp",
    "elapsed_s",
    "source",
    "destination",
    "key",
    "status",  # seen | timeout | write_failed
    "lag_ms",
    "resolution_ms",
    "lag_low_ms",
    "polls",
    "poll_errors",
    "write_latency_ms",
    "written_at",
    "error",
]


class _Destination:
    """Polls one destination on keep-alive connections (one per pool thread, reused across probes)."""

    def __init__(self, name: str, url: str, max_in_flight: int, timeout_s: float, epoch: float):
        self.name = name
        self._url = url
        self._timeout_s = timeout_s
        self._epoch = epoch
        self._local = threading.local()
        self._clients: list[TimedClient] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_in_flight, thread_name_prefix=f"lag-{name}")
        self._slots = threading.Semaphore(max_in_flight)
        # launch offset (s after the ack) of each probe's first sighting: where the next probes poll densely
        self.first_hit_offsets: list[float] = []

    def _read(self, key: str) -> TimedResult:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = TimedClient(
                self.name, self._url, self._timeout_s, epoch=self._epoch
            )
            with self._lock:
                self._clients.append(client)
        try:
            return client.read(key)
        finally:
            self._slots.release()

    def poll_until_seen(self, key: str, value: str, ack: float, timeout_s: float, schedule_for, stop):
        """Launches polls at ``ack + offset`` until one sees ``value`` (or timeout); returns every poll result.

        ``schedule_for(dense)`` gives the offsets, given the window where earlier probes first saw their value."""
        seen = threading.Event()
        launched = []  # (offset, future)

        def check(future):
            result = future.result()
            if _is_hit(result, value):
                seen.set()

        deadline = ack + timeout_s
        for offset in schedule_for(dense_window(self.first_hit_offsets[-20:])):
            launch = ack + offset
            if launch > deadline:
                break
            wait = launch - time.perf_counter()
            if wait > 0 and seen.wait(wait):
                break
            if seen.is_set() or (stop is not None and stop.is_set()):
                break
            # Bounded in flight: when every connection is busy, the schedule slips (the resolution then shows it).
            while not self._slots.acquire(timeout=0.05):
                if seen.is_set() or time.perf_counter() > deadline:
                    break
            else:
                future = self._pool.submit(self._read, key)
                future.add_done_callback(check)
                launched.append((time.perf_counter() - ack, future))
                continue
            break
        results = [(offset, future.result()) for offset, future in launched]
        hits = [(moment_of(result), offset) for offset, result in results if _is_hit(result, value)]
        if hits:
            self.first_hit_offsets.append(min(hits)[1])
        return [result for _, result in results]

    def close(self):
        self._pool.shutdown(wait=True)
        for client in self._clients:
            client.close()


def run_lag(
    target_set: TargetSet,
    source: str,
    destinations,
    probes: int = 10,
    timeout_s: float = 10.0,
    progress=None,
    on_sample=None,
    key_prefix: str = "probe-lag",
    min_interval_ms: float = 5.0,
    max_interval_ms: float = 100.0,
    backoff: float = 1.25,
    max_in_flight: int = 32,
    pause_s: float = 0.05,
    request_timeout_s: float = 5.0,
    stop: threading.Event | None = None,
) -> pd.DataFrame:
    destinations = [d for d in (destinations or []) if d != source]
    if source == GLOBAL or GLOBAL in destinations:
        raise ProbeError(
            "replication lag is measured between regions: the global endpoint cannot be a source or destination"
        )
    target_set.require([source, *destinations])
    if not destinations:
        raise ProbeError("choose at least one destination region other than the source")
    probes = positive_int("probes", probes)
    timeout_s = positive_float("timeout_s", timeout_s)
    min_interval_ms = positive_float("min_interval_ms", min_interval_ms)
    max_interval_ms = max(min_interval_ms, positive_float("max_interval_ms", max_interval_ms))
    if not backoff >= 1.0:
        raise ProbeError(f"backoff must be >= 1, got {backoff!r}")
    max_in_flight = positive_int("max_in_flight", max_in_flight)

    run = run_id()
    epoch = time.perf_counter()

    def schedule(dense):
        return poll_schedule(min_interval_ms, max_interval_ms, backoff, timeout_s, dense)

    report = Progress(progress, probes * len(destinations))
    report(0, f"{probes} probes from {source} to {', '.join(destinations)}", force=True)
    writer = TimedClient(source, target_set.url(source), request_timeout_s, epoch=epoch)
    pollers = {
        d: _Destination(d, target_set.url(d), max_in_flight, min(request_timeout_s, timeout_s), epoch)
        for d in destinations
    }
    rows = []
    try:
        for probe in range(probes):
            if stop is not None and stop.is_set():
                break
            key = f"{key_prefix}-{run}-{probe}"
            value = f"{run}-{probe}-{time.time_ns()}"
            write = writer.write(key, value)
            base = {
                "probe": probe,
                "timestamp": write.row["timestamp"],
                "elapsed_s": write.row["elapsed_s"],
                "source": source,
                "key": key,
                "write_latency_ms": write.row["latency_ms"],
                "written_at": write.row["written_at"],
            }
            if not write.ok:
                for destination in destinations:
                    rows.append(
                        {
                            **base,
                            "destination": destination,
                            "status": "write_failed",
                            "lag_ms": math.nan,
                            "resolution_ms": math.nan,
                            "lag_low_ms": math.nan,
                            "polls": 0,
                            "poll_errors": 0,
                            "error": f"write in {source} failed: {write.row['error']}",
                        }
                    )
                    _emit(rows[-1], on_sample)
                report(len(rows), f"probe {probe + 1}/{probes}: write failed")
                time.sleep(pause_s)
                continue
            write_moment = moment_of(write)
            ack = write.t_received
            found = _poll_all(pollers, key, value, ack, timeout_s, schedule, stop)
            for destination in destinations:
                rows.append(
                    {
                        **base,
                        "destination": destination,
                        **_lag_row(found.get(destination, []), value, write_moment),
                    }
                )
                _emit(rows[-1], on_sample)
                report(len(rows), f"probe {probe + 1}/{probes}")
            if pause_s:
                time.sleep(pause_s)
    finally:
        writer.close()
        for poller in pollers.values():
            poller.close()
    df = pd.DataFrame(rows, columns=LAG_COLUMNS)
    df["timestamp"] = pd.to_datetime(df["timestamp"], unit="s", utc=True)
    return df


def _poll_all(pollers, key, value, ack, timeout_s, schedule, stop) -> dict[str, list[TimedResult]]:
    """Polls every destination at once (one scheduler thread each) until each sees the value or times out."""
    found: dict[str, list[TimedResult]] = {}

    def poll(name):
        found[name] = pollers[name].poll_until_seen(key, value, ack, timeout_s, schedule, stop)

    threads = [threading.Thread(target=poll, args=(name,), daemon=True) for name in pollers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def _is_hit(result: TimedResult, value: str) -> bool:
    return result.row["status"] == 200 and isinstance(result.body, dict) and result.body.get("value") == value


def _lag_row(results: list[TimedResult], value: str, write_moment: float) -> dict:
    polls, errors, last_error = [], 0, ""
    for result in results:
        if result.row["status"] in (200, 404):
            hit = (
                result.row["status"] == 200
                and isinstance(result.body, dict)
                and result.body.get("value") == value
            )
            polls.append((moment_of(result), hit))
        else:
            errors += 1
            last_error = result.row["error"]
    figures = lag_from_polls(write_moment, polls)
    status = "seen" if figures["seen"] else "timeout"
    error = (
        ""
        if figures["seen"]
        else (f"not seen; last error: {last_error}" if last_error else "not seen before the timeout")
    )
    return {
        "status": status,
        "lag_ms": figures["lag_ms"],
        "resolution_ms": figures["resolution_ms"],
        "lag_low_ms": figures["lag_low_ms"],
        "polls": len(results),
        "poll_errors": errors,
        "error": error,
    }


def _emit(row, on_sample):
    if on_sample is not None:
        on_sample(row)

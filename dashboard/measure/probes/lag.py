"""Replication-lag probe: write a unique value in a source region, poll every destination until it shows up.

``run_lag(target_set, source, destinations, probes=10, timeout_s=10.0, progress=None, on_sample=None, ...)``
returns one row per (probe, destination) -- ``LAG_COLUMNS`` -- and ``lag_summary(df)`` summarizes per
source -> destination pair (probes, seen, timeouts, lag p50 / p90 / p99 / max, median resolution).
``reference_lag(target_set, source, destinations, start, end, control=None)`` gives the system's own figures for
the same window (``REFERENCE_COLUMNS`` per pair): the local cloud's control API (its replicator's
``ReplicationLatency`` samples, from the source's stream record to the apply in the destination), or CloudWatch's
``ReplicationLatency`` on AWS (``dashboard.measure.aws``; per-minute averages, so p50 there is a median of averages). Timeouts are rows with ``status="timeout"`` (and ``lag_low_ms``: the lag was at least
that), never dropped; a failed write gives ``status="write_failed"`` rows.

Method
------
Every request is timed on the monotonic clock: sent at ``t0`` (after the connection setup, when one was needed),
answered at ``t1``, with the function's own time ``app`` from ``Server-Timing``. The time outside the function,
``t1 - t0 - app``, is network (there and back); assuming the two legs are equal, the server acted at

    moment = t1 - (t1 - t0 - app) / 2          (``server_moment``)

The write's moment ``W`` estimates when the value was committed in the source. Each poll of a destination gets
its moment ``R_k`` the same way. With ``H`` the earliest moment of a read that returned the value and ``M`` the
latest moment of a read before ``H`` that did not,

    lag        = H - W          (first seen minus write acknowledgement, both corrected by their one-way times)
    resolution = H - M          (M replaced by W when the very first poll already saw it)

and the true lag lies in ``[lag - resolution, lag]``, give or take the one-way estimation error: at most half
the asymmetry between the outbound and return legs of the write and of the read (zero on a symmetric path such
as the local cloud's, a few ms between a client and an AWS region). Negative estimates (clock noise when the value
is visible at once) are clamped to 0.

Polling is adaptive and overlapping: polls are *launched* on a schedule -- immediately after the write is
acknowledged, then every ``min_interval_ms`` growing by ``backoff`` up to ``max_interval_ms`` -- on up to
``max_in_flight`` keep-alive connections per destination, so a destination 150 ms away is still sampled every few
ms. The schedule learns: once a destination has shown a value, later probes poll it every ``min_interval_ms``
across the window where the earlier ones first saw theirs (``dense_window``: their spread +-25 %, +-20 ms), and
sparsely before and after it, so the resolution stays near ``min_interval_ms`` without polling all the time. The resolution achieved is reported for every probe (``resolution_ms``): it is the interval between polls
around the moment of first sighting, plus the spread of their one-way estimates.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import numpy as np
import pandas as pd

from backend.local.contracts import TABLE_NAME
from dashboard.measure.common import Progress, positive_float, positive_int, run_id
from dashboard.measure.errors import ProbeError
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


# -- the arithmetic (pure, unit-tested) ----------------------------------------------------------------------


def server_moment(
    t_sent: float, t_received: float, app_ms: float = math.nan, connect_ms: float = 0.0
) -> float:
    """Estimated moment (same clock as the arguments, seconds) at which the server acted on a request."""
    start = t_sent + (connect_ms or 0.0) / 1000.0
    app_s = app_ms / 1000.0 if app_ms is not None and math.isfinite(app_ms) else 0.0
    outside = max(0.0, (t_received - start) - app_s)
    return t_received - outside / 2.0


def moment_of(result: TimedResult) -> float:
    row = result.row
    return server_moment(result.t_sent, result.t_received, row["server_app_ms"], row["connect_ms"])


def lag_from_polls(write_moment: float, polls) -> dict:
    """``polls``: iterable of (moment, seen: bool) -> {lag_ms, resolution_ms, lag_low_ms, seen}.

    Errors must be left out of ``polls`` (an error says nothing about visibility)."""
    polls = sorted(polls)
    hits = [moment for moment, seen in polls if seen]
    if not hits:
        misses = [moment for moment, _ in polls]
        low = (max(misses) - write_moment) * 1000.0 if misses else 0.0
        return {"seen": False, "lag_ms": math.nan, "resolution_ms": math.nan, "lag_low_ms": max(0.0, low)}
    first_seen = min(hits)
    misses_before = [moment for moment, seen in polls if not seen and moment < first_seen]
    last_miss = max(misses_before) if misses_before else write_moment
    lag = max(0.0, (first_seen - write_moment) * 1000.0)
    low = max(0.0, (last_miss - write_moment) * 1000.0)
    return {"seen": True, "lag_ms": lag, "resolution_ms": max(0.0, lag - low), "lag_low_ms": low}


def poll_schedule(
    min_interval_ms: float, max_interval_ms: float, backoff: float, horizon_s: float, dense=None
) -> list[float]:
    """Offsets (s, from the acknowledgement) at which polls are launched: 0, then intervals growing by ``backoff``
    up to ``max_interval_ms``; inside ``dense = (start_s, end_s)`` (where earlier probes first saw their value)
    every ``min_interval_ms``, landing exactly on ``start_s``; after it, growing again from the minimum."""
    low, high = dense if dense else (math.inf, math.inf)
    minimum, maximum = min_interval_ms / 1000.0, max_interval_ms / 1000.0
    offsets, t, grow = [], 0.0, minimum
    while t <= horizon_s:
        offsets.append(t)
        if low <= t < high:
            step = grow = minimum
        else:
            step = grow
            grow = min(grow * backoff, maximum)
            if t < low:
                step = min(step, max(low - t, minimum))
        t += step
    return offsets


def dense_window(first_hit_offsets, margin_s: float = 0.02, spread: float = 0.25):
    """Where to poll densely, from the launch offsets of earlier probes' first sightings (None before any)."""
    offsets = [o for o in first_hit_offsets if o is not None and math.isfinite(o)]
    if not offsets:
        return None
    return max(0.0, min(offsets) * (1 - spread) - margin_s), max(offsets) * (1 + spread) + margin_s


# -- the probe ----------------------------------------------------------------------------------------------


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


def lag_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per source -> destination: probes, seen, timeouts, write_failed, lag mean/p50/p90/p99/max, median resolution."""
    columns = [
        "probes",
        "seen",
        "timeouts",
        "write_failed",
        "mean",
        "p50",
        "p90",
        "p99",
        "max",
        "resolution_p50",
    ]
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=["source", "destination", *columns]).set_index(["source", "destination"])
    rows = []
    for (source, destination), part in df.groupby(["source", "destination"], sort=False):
        lags = part.loc[part["status"] == "seen", "lag_ms"].to_numpy(dtype="float64")
        figures = dict.fromkeys(("mean", "p50", "p90", "p99", "max"), math.nan)
        if lags.size:
            p50, p90, p99 = np.percentile(lags, [50, 90, 99])
            figures = {
                "mean": float(lags.mean()),
                "p50": float(p50),
                "p90": float(p90),
                "p99": float(p99),
                "max": float(lags.max()),
            }
        resolution = part.loc[part["status"] == "seen", "resolution_ms"].to_numpy(dtype="float64")
        rows.append(
            {
                "source": source,
                "destination": destination,
                "probes": int(len(part)),
                "seen": int((part["status"] == "seen").sum()),
                "timeouts": int((part["status"] == "timeout").sum()),
                "write_failed": int((part["status"] == "write_failed").sum()),
                **figures,
                "resolution_p50": float(np.median(resolution)) if resolution.size else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=["source", "destination", *columns]).set_index(
        ["source", "destination"]
    )


# -- the system's own figures for the same window --------------------------------------------------------------

REFERENCE_COLUMNS = ["source", "destination", "samples", "p50_ms", "mean_ms", "max_ms", "origin"]


def _pairs_of(document) -> list:
    """The per-pair list of a control API answer: ``{"pairs": [...]}``, possibly under ``replication``."""
    if not isinstance(document, dict):
        return []
    if isinstance(document.get("pairs"), list):
        return document["pairs"]
    for key in ("replication", "replicator", "latency"):
        if isinstance(document.get(key), dict):
            pairs = _pairs_of(document[key])
            if pairs:
                return pairs
    return []


def local_reference(
    document, source: str, destinations, start_epoch_s: float, end_epoch_s: float
) -> pd.DataFrame:
    """Per pair, the local replicator's ``ReplicationLatency`` samples of writes made in [start, end] (pure).

    ``document`` is the control API's replication latency answer: ``{"pairs": [{"source", "destination",
    "recent": [{"at": epoch s, "ms": lag}], "p50_ms", "max_ms", ...}]}``. Pairs with no sample in the window
    fall back to their overall p50/max (``origin`` says which)."""
    rows = []
    for pair in _pairs_of(document):
        if pair.get("source") != source or pair.get("destination") not in destinations:
            continue
        # A sample belongs to the window when its *write* does (applied at - lag >= start): a write made before
        # the window but applied inside it is someone else's.
        recent = [
            float(s["ms"])
            for s in pair.get("recent", [])
            if isinstance(s, dict)
            and s.get("ms") is not None
            and s.get("at") is not None
            and start_epoch_s <= float(s["at"]) - float(s["ms"]) / 1000.0
            and float(s["at"]) <= end_epoch_s
        ]
        if recent:
            values = np.asarray(recent)
            rows.append(
                {
                    "source": source,
                    "destination": pair["destination"],
                    "samples": int(values.size),
                    "p50_ms": float(np.percentile(values, 50)),
                    "mean_ms": float(values.mean()),
                    "max_ms": float(values.max()),
                    "origin": "local replicator (window)",
                }
            )
        elif pair.get("p50_ms") is not None:
            rows.append(
                {
                    "source": source,
                    "destination": pair["destination"],
                    "samples": int(pair.get("count") or 0),
                    "p50_ms": float(pair["p50_ms"]),
                    "mean_ms": math.nan,
                    "max_ms": float(pair.get("max_ms") or math.nan),
                    "origin": "local replicator (all time)",
                }
            )
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS).set_index(["source", "destination"])


def _control_latency_document(control):
    for name in ("replication_latency", "latency", "status"):
        method = getattr(control, name, None)
        if callable(method):
            try:
                document = method()
            except Exception as error:  # ControlError, URLError...: a ProbeError the UI can show
                message = getattr(error, "message", None) or str(error) or type(error).__name__
                raise ProbeError(f"the local cloud's control API did not answer: {message}") from None
            if _pairs_of(document):
                return document
    return None


def reference_lag(
    target_set: TargetSet,
    source: str,
    destinations,
    start,
    end,
    control=None,
    table_name: str = TABLE_NAME,
    session=None,
) -> pd.DataFrame | None:
    """The system's own replication latency for [start, end] (aware datetimes): the local cloud's control API
    when ``control`` is given, else CloudWatch's ``ReplicationLatency`` (AWS). None when neither is available."""
    destinations = list(destinations)
    if control is not None:
        document = _control_latency_document(control)
        if document is None:
            return None
        return local_reference(document, source, destinations, start.timestamp(), end.timestamp())
    if target_set.is_local:
        return None
    from dashboard.measure import aws

    # CloudWatch keeps per-minute points stamped at the start of their minute: widen to whole minutes around it.
    metrics = aws.replication_latency_pairs(
        table_name,
        source,
        destinations,
        start - timedelta(minutes=1),
        end + timedelta(minutes=1),
        session=session,
    )
    rows = []
    for destination, part in metrics.groupby("destination", sort=False):
        weights = part["samples"].fillna(0).to_numpy(dtype="float64")
        averages = part["average_ms"].to_numpy(dtype="float64")
        mean = float((averages * weights).sum() / weights.sum()) if weights.sum() else math.nan
        rows.append(
            {
                "source": source,
                "destination": destination,
                "samples": int(weights.sum()),
                "p50_ms": float(np.median(averages)),
                "mean_ms": mean,
                "max_ms": float(part["maximum_ms"].max()),
                "origin": "CloudWatch (per-minute averages)",
            }
        )
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS).set_index(["source", "destination"])

"""Conflict probe: concurrent writes of different values to one key in two or more regions, then watch them agree.

``run_conflict(target_set, regions, trials=20, timeout_s=10.0, progress=None, on_sample=None, ...)``
returns ``(results, timeline)``:

* ``results`` -- one row per trial (``RESULT_COLUMNS``): the key; ``acked`` writes; the ``winner`` (value,
  region and writtenAt every region finally agrees on); ``expected_region`` / ``expected_value``, the
  last-writer-wins winner among the *acknowledged* writes, i.e. the greatest ``(writtenAt, region, value)``
  (the order the local cloud and DynamoDB global tables use); ``follows_lww``; ``losers`` (regions whose write
  lost, comma-separated); ``write_spread_ms`` (max - min writtenAt of the competing writes: how close the race
  was); ``converged``; ``converge_ms`` (from the last write's commit to the read that completed the first round
  in which every region agreed) with ``resolution_ms`` (the time between that round and the previous one);
  ``error``. The ms figures are whole milliseconds, defined and rounded once in ``conflict_figures``.
* ``timeline`` -- every poll (``TIMELINE_COLUMNS``): trial, round, elapsed_s, ``since_writes_ms`` (the read's
  server moment on the same clock as ``converge_ms``), region, value, write_region, written_at, status: what each
  region showed over time, for the "each region's value until they agree" chart.

How: each region gets one worker thread with its own keep-alive connection (warm before the race). The writers
wait on a ``threading.Barrier`` and are released together, so the writes really race. They *leave* together, so
the region farther from the client stamps its write later and wins (the physics of last writer wins); with
``land_together=True`` each write is held back by the difference between its region's one-way delay and the
farthest one's (measured before the trials, then corrected after each trial by the stamps it produced), so the
writes *land* together and the race is real; then rounds of reads (one
per region, concurrently, every ``poll_interval_ms``) run until every region returns the same item, or the timeout.
Every region wrote its own value, and a region only ever moves to a greater version, so the first round in which
all regions agree shows the final winner.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from backend.local.dynamodb.versions import from_text
from dashboard.measure.common import Progress, positive_float, positive_int, run_id
from dashboard.measure.errors import ProbeError
from dashboard.measure.probes.conflict_figures import since_ms
from dashboard.measure.probes.lag_math import moment_of
from dashboard.measure.targets import GLOBAL, TargetSet
from dashboard.measure.timed_client import TimedClient, TimedResult

RESULT_COLUMNS = [
    "trial",
    "timestamp",
    "key",
    "regions",
    "acked",
    "winner_value",
    "winner_region",
    "winner_written_at",
    "expected_value",
    "expected_region",
    "follows_lww",
    "losers",
    "write_spread_ms",
    "converged",
    "converge_ms",
    "resolution_ms",
    "rounds",
    "error",
]
TIMELINE_COLUMNS = [
    "trial",
    "round",
    "elapsed_s",
    "since_writes_ms",
    "region",
    "value",
    "write_region",
    "written_at",
    "status",
]


def lww_winner(writes):
    """``writes``: iterable of dicts with value, region, writtenAt and maybe itemVersion -> the one last writer wins
    keeps (or None). DynamoDB orders writes by a hidden timestamp: where the local cloud reported it for every write
    (``itemVersion``, "ts_us:region") that order is exact; on AWS it is unknown, and ``writtenAt`` (the writers'
    clocks, a few ms before DynamoDB's) is the closest estimate."""
    writes = [w for w in writes if w is not None]
    if not writes:
        return None
    if all(w.get("itemVersion") for w in writes):
        return max(writes, key=lambda w: from_text(w["itemVersion"]))
    return max(writes, key=lambda w: (int(w["writtenAt"]), str(w["region"]), str(w["value"])))



class _Region:
    """One region's single worker thread and its keep-alive client, used for both the write and the reads."""

    def __init__(self, name: str, url: str, timeout_s: float, epoch: float):
        self.name = name
        self.client = TimedClient(name, url, timeout_s, epoch=epoch)
        self.pool = ThreadPoolExecutor(1, thread_name_prefix=f"conflict-{name}")

    def close(self):
        self.pool.shutdown(wait=True)
        self.client.close()


def run_conflict(
    target_set: TargetSet,
    regions,
    trials: int = 20,
    timeout_s: float = 10.0,
    progress=None,
    on_sample=None,
    key_prefix: str = "probe-conflict",
    poll_interval_ms: float = 10.0,
    request_timeout_s: float = 5.0,
    stop: threading.Event | None = None,
    land_together: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    regions = list(dict.fromkeys(regions or []))
    if GLOBAL in regions:
        raise ProbeError("a conflict needs writes in distinct regions: the global endpoint cannot take part")
    if len(regions) < 2:
        raise ProbeError("a conflict needs at least two regions")
    target_set.require(regions)
    trials = positive_int("trials", trials)
    timeout_s = positive_float("timeout_s", timeout_s)
    poll_interval_s = positive_float("poll_interval_ms", poll_interval_ms) / 1000.0

    run = run_id()
    epoch = time.perf_counter()
    workers = {r: _Region(r, target_set.url(r), request_timeout_s, epoch) for r in regions}
    report = Progress(progress, trials)
    report(0, f"{trials} trials over {', '.join(regions)}", force=True)
    results, timeline = [], []
    try:
        # Warm every connection first, so the race is not decided by who opens a TCP connection faster.
        for future in [w.pool.submit(w.client.health) for w in workers.values()]:
            future.result()
        holds = _holds(workers) if land_together else {}
        for trial in range(trials):
            if stop is not None and stop.is_set():
                break
            row = _trial(
                workers,
                f"{key_prefix}-{run}-{trial}",
                trial,
                run,
                timeout_s,
                poll_interval_s,
                timeline,
                holds,
            )
            results.append(row)
            if on_sample is not None:
                on_sample(row)
            report(trial + 1, f"trial {trial + 1}/{trials}: winner {row['winner_region'] or '?'}")
    finally:
        for worker in workers.values():
            worker.close()
    results_df = pd.DataFrame(results, columns=RESULT_COLUMNS)
    results_df["timestamp"] = pd.to_datetime(results_df["timestamp"], unit="s", utc=True)
    return results_df, pd.DataFrame(timeline, columns=TIMELINE_COLUMNS)


def _holds(workers: dict, rounds: int = 5) -> dict[str, float]:
    """For writes that land together: how long to hold each region's write after the barrier (seconds), so that
    every write reaches its region when the farthest one's does. One-way delay = half the median warm round trip
    of ``/_health`` (measured ``rounds`` times per region, all regions at once)."""
    trips: dict[str, list[float]] = {r: [] for r in workers}
    for _ in range(rounds):
        futures = {r: w.pool.submit(w.client.health) for r, w in workers.items()}
        for region, future in futures.items():
            result = future.result()
            trips[region].append(result.t_received - result.t_sent)
    one_way = {r: sorted(t)[len(t) // 2] / 2 for r, t in trips.items()}
    farthest = max(one_way.values())
    return {r: farthest - d for r, d in one_way.items()}


def _retune(holds: dict, acked: dict) -> None:
    """After a trial timed to land together: move each hold by half its write's distance from the mean stamp, so
    that what the one-way estimate missed (server time, clock offsets) is learnt trial by trial."""
    stamps = {r: int(body["writtenAt"]) for r, body in acked.items() if r in holds}
    if len(stamps) < 2:
        return
    mean = sum(stamps.values()) / len(stamps)
    for region, stamp in stamps.items():
        holds[region] -= 0.5 * (stamp - mean) / 1000.0
    lowest = min(holds.values())
    for region in holds:
        holds[region] -= lowest


def _race(
    workers: dict, key: str, trial: int, run: str, timeout_s: float, holds: dict | None = None
) -> dict[str, TimedResult]:
    """Every region writes its own value to ``key``, released together by a barrier so the writes really race;
    with ``holds``, each write waits its hold first, so that they *land* together instead of leaving together."""
    barrier = threading.Barrier(len(workers))
    holds = holds or {}

    def write(worker: _Region, value: str) -> TimedResult:
        barrier.wait(timeout=timeout_s)
        if holds.get(worker.name):
            time.sleep(holds[worker.name])
        return worker.client.write(key, value)

    futures = {r: w.pool.submit(write, w, f"{r}:{run}:{trial}") for r, w in workers.items()}
    return {r: f.result() for r, f in futures.items()}


def _read_round(workers: dict, key: str, trial: int, round_number: int, timeline: list, last_commit: float):
    """One read per region, concurrently; appends them to ``timeline`` (each at its server moment, in whole ms since
    the last write committed: ``conflict_figures.since_ms``); returns (what each region holds: (value,
    writeRegion, writtenAt) or None, the round's latest ``since_writes_ms``)."""
    reads = {
        r: f.result() for r, f in {r: w.pool.submit(w.client.read, key) for r, w in workers.items()}.items()
    }
    seen = {}
    for region, result in reads.items():
        body = result.body if isinstance(result.body, dict) and result.row["status"] == 200 else None
        timeline.append(
            {
                "trial": trial,
                "round": round_number,
                "elapsed_s": result.row["elapsed_s"],
                "since_writes_ms": since_ms(moment_of(result), last_commit),
                "region": region,
                "value": body.get("value", "") if body else "",
                "write_region": body.get("writeRegion", "") if body else "",
                "written_at": float(body["writtenAt"])
                if body and body.get("writtenAt") is not None
                else math.nan,
                "status": result.row["status"],
            }
        )
        seen[region] = (body.get("value"), body.get("writeRegion"), body.get("writtenAt")) if body else None
    return seen, max(since_ms(moment_of(r), last_commit) for r in reads.values())


def _trial(
    workers: dict,
    key: str,
    trial: int,
    run: str,
    timeout_s: float,
    poll_interval_s: float,
    timeline,
    holds=None,
):
    regions = list(workers)
    writes = _race(workers, key, trial, run, timeout_s, holds)
    acked = {
        r: {**w.body, "itemVersion": w.item_version} for r, w in writes.items() if w.ok and isinstance(w.body, dict)
    }
    if holds:
        _retune(holds, acked)
    expected = lww_winner(acked.values())
    stamps = [int(w["writtenAt"]) for w in acked.values()]
    last_commit = max((moment_of(w) for w in writes.values() if w.ok), default=time.perf_counter())
    row = {
        "trial": trial,
        "timestamp": min(w.row["timestamp"] for w in writes.values()),
        "key": key,
        "regions": ",".join(regions),
        "acked": len(acked),
        "expected_value": expected["value"] if expected else "",
        "expected_region": expected["region"] if expected else "",
        "write_spread_ms": float(max(stamps) - min(stamps)) if stamps else math.nan,
        "winner_value": "",
        "winner_region": "",
        "winner_written_at": math.nan,
        "follows_lww": False,
        "losers": "",
        "converged": False,
        "converge_ms": math.nan,
        "resolution_ms": math.nan,
        "rounds": 0,
        "error": "",
    }
    failed = [f"{r}: {w.row['error']}" for r, w in writes.items() if not w.ok]
    if not acked:
        row["error"] = "no write was acknowledged: " + "; ".join(failed)
        return row
    _watch_until_agreed(
        workers, key, trial, timeline, row, acked, expected, last_commit, timeout_s, poll_interval_s
    )
    if failed:
        row["error"] = (
            (row["error"] + "; " if row["error"] else "") + "unacknowledged writes: " + "; ".join(failed)
        )
    return row


def _watch_until_agreed(
    workers, key, trial, timeline, row, acked, expected, last_commit, timeout_s, poll_interval_s
) -> None:
    """Rounds of reads until every region holds the same item (the winner) or the timeout; fills in ``row``."""
    deadline = time.perf_counter() + timeout_s
    previous_round_ms = 0
    round_number = 0
    while True:
        round_number += 1
        seen, round_ms = _read_round(workers, key, trial, round_number, timeline, last_commit)
        states = set(seen.values())
        if None not in states and len(states) == 1:
            value, region, written_at = states.pop()
            row.update(
                {
                    "winner_value": value,
                    "winner_region": region,
                    "winner_written_at": float(written_at),
                    "converged": True,
                    "converge_ms": round_ms,
                    "resolution_ms": round_ms - previous_round_ms,
                    "rounds": round_number,
                    "follows_lww": bool(expected)
                    and value == expected["value"]
                    and region == expected["region"],
                    "losers": ",".join(sorted(r for r in acked if r != region)),
                }
            )
            return
        previous_round_ms = round_ms
        if time.perf_counter() >= deadline:
            row["rounds"] = round_number
            row["error"] = "regions did not agree before the timeout: " + ", ".join(
                f"{r}={s[0] if s else 'missing'}" for r, s in seen.items()
            )
            return
        time.sleep(poll_interval_s)

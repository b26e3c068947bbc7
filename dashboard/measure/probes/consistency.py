"""Consistency probe: the same workload against an MREC and an MRSC local cloud, side by side.

``run_consistency(sides, controls, regions=None, writes=12, trials=3, isolation_rounds=4, isolate=None, ...)``
returns the samples (``consistency_figures.SAMPLE_COLUMNS``); ``consistency_figures.figures`` turns them into the
per-region table. ``sides``: {"MREC": TargetSet, "MRSC": TargetSet} (same regions); ``controls``: the same keys
to each cloud's ``ControlClient`` (needed for the isolation phase only). The sides run one after the other (never
at once: they would share the machine's cores and skew each other's latencies), each in three phases:

1. **write**: ``writes`` writes, round robin over the regions, on ``threads`` workers of the engine's pool
   (``dashboard.measure.pool``), each to its own key. As soon as a write is acknowledged, the next region reads the
   key, eventually consistent (``GET``) and strongly consistent (``GET ?consistent=true``), alternately first,
   every ``poll_interval_ms`` until both show the write or ``fresh_timeout_s``: was the first read stale, and for
   how long (``stale_ms``: the write's server moment to the first read that showed it, whole ms).
2. **conflict**: ``trials`` races: two regions (a different pair each trial) write their own value to one key,
   released together by a barrier on warm connections; once both are answered, each writer reads the key strongly
   in its own region at once, then strongly consistent reads in every region until they agree (the
   ``final_value``), or ``fresh_timeout_s``; ``seen_after``: one of those reads returned the write's value.
3. **isolation**: one key written in each region and seen everywhere; then ``isolate`` (default: the last region)
   is cut off from the others (``control.isolate_region``) and every region gets ``isolation_rounds`` rounds of a
   write, a strong read and an eventual read; the region is reconnected at the end, whatever happens. Skipped with
   ``isolation_rounds=0``.

``stop`` (a ``threading.Event``) ends the run early; ``on_sample`` gets every row as it is measured (from the
caller's thread), ``progress(done, total, message)`` the count.
"""

from __future__ import annotations

import math
import threading
import time

import pandas as pd

from dashboard.measure.common import Progress, positive_float, positive_int, run_id
from dashboard.measure.errors import ProbeError
from dashboard.measure.pool import RequestPool, client_for
from dashboard.measure.probes.conflict_figures import since_ms
from dashboard.measure.probes.consistency_figures import SAMPLE_COLUMNS
from dashboard.measure.probes.lag_math import moment_of
from dashboard.measure.timed_client import TimedClient, TimedResult

OPS = ("write", "strong", "eventual")


class _Run:
    """One run's settings, clock and sinks, shared by the phases."""

    def __init__(self, regions, settings: dict, progress, on_sample, stop, total: int):
        self.regions = regions
        self.s = settings
        self.stop = stop or threading.Event()
        self.on_sample = on_sample
        self.report = Progress(progress, total)
        self.done = 0
        self.rows: list[dict] = []
        self.epoch = time.perf_counter()
        self.id = run_id()

    def ms(self, moment: float) -> float:
        return (moment - self.epoch) * 1000.0

    def client(self, clients: dict, side_targets, region: str) -> TimedClient:
        """The worker's keep-alive client to ``region``; a new one is warmed first (``/_health``), so that no
        measured request pays for opening a connection."""
        if region not in clients:
            client_for(clients, region, lambda: self._new_client(side_targets, region)).health()
        return clients[region]

    def _new_client(self, side_targets, region: str) -> TimedClient:
        return TimedClient(region, side_targets.url(region), self.s["request_timeout_s"], epoch=self.epoch)

    def keep(self, rows: list[dict], message: str, count: int = 1) -> None:
        for row in rows:
            full = {column: row.get(column, _DEFAULTS.get(column, "")) for column in SAMPLE_COLUMNS}
            self.rows.append(full)
            if self.on_sample is not None:
                self.on_sample(full)
        self.done += count
        self.report(self.done, message)


_DEFAULTS = {"n": -1, "status": 0, "ok": False, "stale": False, "reads": 0, "seen_after": False}
for _column in ("latency_ms", "sent_ms", "answered_ms", "stale_ms"):
    _DEFAULTS[_column] = math.nan


def _request_row(run: _Run, side: str, phase: str, n: int, region: str, op: str, result: TimedResult) -> dict:
    return {
        "side": side,
        "phase": phase,
        "n": n,
        "region": region,
        "op": op,
        "key": result.row["key"],
        "status": int(result.row["status"]),
        "ok": bool(200 <= result.row["status"] < 300),
        "latency_ms": result.row["latency_ms"],
        "sent_ms": run.ms(result.t_sent),
        "answered_ms": run.ms(result.t_received),
        "value": result.row["value"],
        "version": result.item_version or "",
        "error": result.row["error"],
    }


def _read(client: TimedClient, key: str, op: str) -> TimedResult:
    return client.read(key, consistent=op == "strong")


def _shows(result: TimedResult, value: str) -> bool:
    return result.row["status"] == 200 and result.row["value"] == value


def _freshness(run: _Run, client: TimedClient, key: str, value: str, first: str) -> dict:
    """Reads ``key`` (eventual and strong, ``first`` first) until both show ``value``: per op, the first read, the
    first that showed it, and how many reads it took."""
    order = (first, "eventual" if first == "strong" else "strong")
    found: dict[str, dict] = {op: {"first": None, "fresh": None, "reads": 0} for op in order}
    deadline = time.perf_counter() + run.s["fresh_timeout_s"]
    while True:
        for op in order:
            seen = found[op]
            if seen["fresh"] is not None:
                continue
            result = _read(client, key, op)
            seen["reads"] += 1
            seen["first"] = seen["first"] or result
            if _shows(result, value):
                seen["fresh"] = result
        if all(s["fresh"] is not None for s in found.values()) or time.perf_counter() >= deadline:
            return found
        time.sleep(run.s["poll_interval_s"])


def _write_phase(run: _Run, side: str, targets) -> None:
    regions, n = run.regions, len(run.regions)

    def send(index: int, clients: dict) -> list[dict]:
        writer, reader = regions[index % n], regions[(index + 1) % n]
        key = f"{run.s['key_prefix']}-{run.id}-{side}-w{index}"
        value = f"{writer}:{run.id}:{index}"
        written = run.client(clients, targets, writer).write(key, value)
        rows = [_request_row(run, side, "write", index, writer, "write", written)]
        if not written.ok:
            return rows
        first = "strong" if index % 2 else "eventual"
        found = _freshness(run, run.client(clients, targets, reader), key, value, first)
        for op, seen in found.items():
            row = _request_row(run, side, "write", index, reader, op, seen["first"])
            stale = seen["fresh"] is not seen["first"]
            fresh_ms = since_ms(moment_of(seen["fresh"]), moment_of(written)) if seen["fresh"] else math.nan
            row.update(
                source_region=writer, stale=stale, stale_ms=fresh_ms if stale else 0, reads=seen["reads"]
            )
            rows.append(row)
        return rows

    pool = RequestPool(
        run.s["writes"], run.s["threads"], send, stop=run.stop, name=f"consistency-{side}",
        join_timeout_s=run.s["fresh_timeout_s"] + run.s["request_timeout_s"],
    )  # fmt: skip
    with pool:
        for rows in pool.rows():
            run.keep(rows, f"{side}: writes, then reads in the next region")


def _agreed(
    run: _Run, side: str, targets, clients: dict, key: str, consistent=False, seen=None
) -> str | None:
    """Reads in every region (strongly consistent ones with ``consistent``) until they all return the same value
    ('' = all missing); every value read goes into ``seen``."""
    deadline = time.perf_counter() + run.s["fresh_timeout_s"]
    while True:
        rows = [run.client(clients, targets, r).read(key, consistent=consistent).row for r in run.regions]
        values = {row["value"] if row["status"] == 200 else "" for row in rows}
        if seen is not None:
            seen.update(values)
        if len(values) == 1 and all(row["status"] in (200, 404) for row in rows):
            return values.pop()
        if time.perf_counter() >= deadline:
            return None
        time.sleep(run.s["poll_interval_s"])


def _race(
    run: _Run, side: str, targets, pair: list[str], key: str, trial: int
) -> tuple[list[dict], set[str]]:
    """Both regions of ``pair`` write ``key`` at once (a barrier on warm connections); as soon as *both* are
    answered (a second barrier), each reads the key strongly in its own region, where its own write would still be
    if it were about to be replaced. Returns (the write rows, the values those reads returned)."""
    start, answered = threading.Barrier(len(pair)), threading.Barrier(len(pair))
    timeout_s = run.s["request_timeout_s"]

    def wait(barrier: threading.Barrier) -> bool:
        try:
            barrier.wait(timeout=timeout_s + 1.0)
            return True
        except threading.BrokenBarrierError:  # the other writer failed to get there: go on, the rows say why
            return False

    def send(index: int, clients: dict) -> dict:
        region = pair[index]
        client = run.client(clients, targets, region)
        client.health()  # warm: the race is not decided by who opens a connection faster
        wait(start)
        result = client.write(key, f"{region}:{run.id}:{trial}")
        row = _request_row(run, side, "conflict", trial, region, "write", result)
        row["_read_after"] = client.read(key, consistent=True).row["value"] if wait(answered) else None
        return row

    with RequestPool(len(pair), len(pair), send, name=f"conflict-{side}") as pool:
        rows = list(pool.rows())
    seen = {row.pop("_read_after") for row in rows} - {None}
    return rows, seen


def _conflict_phase(run: _Run, side: str, targets) -> None:
    regions, n = run.regions, len(run.regions)
    readers: dict = {}
    try:
        for trial in range(run.s["trials"]):
            if run.stop.is_set():
                return
            pair = [regions[trial % n], regions[(trial + 1) % n]]
            key = f"{run.s['key_prefix']}-{run.id}-{side}-c{trial}"
            rows, seen = _race(run, side, targets, pair, key, trial)
            # every value a strong read returned once both writes were answered, until the regions agree
            final = _agreed(run, side, targets, readers, key, consistent=True, seen=seen)
            for row in rows:
                row["final_value"] = "(no agreement)" if final is None else final
                row["seen_after"] = row["ok"] and row["value"] in seen
            run.keep(sorted(rows, key=lambda r: r["sent_ms"]), f"{side}: conflict {trial + 1}")
    finally:
        for client in readers.values():
            client.close()


def _control_call(control, name: str, region: str):
    method = getattr(control, name, None)
    if not callable(method):
        raise ProbeError(
            f"this local cloud's control API cannot {name.replace('_', ' ')} (needs the MRSC core)"
        )
    try:
        return method(region)
    except Exception as error:  # ControlError, URLError...: the probe reports it, never a traceback
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        raise ProbeError(f"the control API could not {name.replace('_', ' ')} {region}: {message}") from None


def _isolation_phase(run: _Run, side: str, targets, control, isolated: str) -> None:
    regions, n = run.regions, len(run.regions)
    keys = {r: f"{run.s['key_prefix']}-{run.id}-{side}-i-{r}" for r in regions}
    setup: dict = {}
    try:
        for region, key in keys.items():  # every region can answer every read (unmeasured)
            run.client(setup, targets, region).write(key, f"{region}:{run.id}:before")
            if _agreed(run, side, targets, setup, key) in (None, ""):
                raise ProbeError(
                    f"{side}: the isolation phase's key written in {region} did not reach every region"
                )
    finally:
        for client in setup.values():
            client.close()

    def send(index: int, clients: dict) -> dict:
        region, op = regions[(index // len(OPS)) % n], OPS[index % len(OPS)]
        client = run.client(clients, targets, region)
        round_ = index // (len(OPS) * n)
        if op == "write":
            result = client.write(keys[region], f"{region}:{run.id}:isolated:{round_}")
        else:
            result = _read(client, keys[region], op)
        row = _request_row(run, side, "isolation", round_, region, op, result)
        row["isolated"] = isolated
        return row

    total = run.s["isolation_rounds"] * n * len(OPS)
    _control_call(control, "isolate_region", isolated)
    try:
        pool = RequestPool(
            total,
            n,
            send,
            stop=run.stop,
            name=f"isolation-{side}",
            join_timeout_s=run.s["request_timeout_s"] + 1,
        )
        with pool:
            for row in pool.rows():
                run.keep([row], f"{side}: {isolated} cut off")
    finally:
        _control_call(control, "reconnect_region", isolated)


def settings_of(writes=12, trials=3, isolation_rounds=4, threads=3, fresh_timeout_s=5.0, poll_interval_ms=5.0,
                request_timeout_s=2.0, key_prefix="probe-consistency") -> dict:  # fmt: skip
    """The workload's parameters, checked (ProbeError otherwise)."""
    return {
        "writes": positive_int("writes", writes),
        "trials": positive_int("trials", trials, minimum=0),
        "isolation_rounds": positive_int("isolation_rounds", isolation_rounds, minimum=0),
        "threads": positive_int("threads", threads),
        "fresh_timeout_s": positive_float("fresh_timeout_s", fresh_timeout_s),
        "poll_interval_s": positive_float("poll_interval_ms", poll_interval_ms) / 1000.0,
        "request_timeout_s": positive_float("request_timeout_s", request_timeout_s),
        "key_prefix": str(key_prefix),
    }


def run_consistency(
    sides: dict,
    controls: dict | None = None,
    regions=None,
    isolate: str | None = None,
    progress=None,
    on_sample=None,
    stop: threading.Event | None = None,
    **workload,
) -> pd.DataFrame:
    if not sides:
        raise ProbeError("give at least one side (e.g. MREC and MRSC target sets)")
    first = next(iter(sides.values()))
    regions = list(dict.fromkeys(regions or first.regions))
    if len(regions) < 2:
        raise ProbeError("the comparison needs at least two regions (reads in another region than the write)")
    for targets in sides.values():
        targets.require(regions)
    s = settings_of(**workload)
    isolate = isolate or regions[-1]
    if s["isolation_rounds"] and isolate not in regions:
        raise ProbeError(f"cannot isolate {isolate}: not one of {', '.join(regions)}")
    if s["isolation_rounds"] and any((controls or {}).get(side) is None for side in sides):
        raise ProbeError("the isolation phase needs each cloud's control API (or isolation_rounds=0)")
    per_side = s["writes"] + s["trials"] + s["isolation_rounds"] * len(regions) * len(OPS)
    run = _Run(regions, s, progress, on_sample, stop, per_side * len(sides))
    run.report(0, f"{', '.join(sides)} over {', '.join(regions)}", force=True)
    for side, targets in sides.items():
        for phase in ("write", "conflict", "isolation"):
            if run.stop.is_set():
                break
            if phase == "write":
                _write_phase(run, side, targets)
            elif phase == "conflict" and s["trials"]:
                _conflict_phase(run, side, targets)
            elif phase == "isolation" and s["isolation_rounds"]:
                _isolation_phase(run, side, targets, controls[side], isolate)
    return pd.DataFrame(run.rows, columns=SAMPLE_COLUMNS)

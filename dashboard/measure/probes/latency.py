"""Latency run: N reads, writes or a mix against several targets, with a concurrency level and an optional rate.

``run_latency(target_set, targets, operation="read", count=100, concurrency=4, rate=None, progress=None,
key_prefix="probe-lat", on_sample=None, timeout_s=10.0, read_fraction=0.5, seed=None, stop=None) -> DataFrame``

* ``count`` requests **per target**; requests are interleaved round-robin over the targets (request i of every
  target before request i+1 of any), so every target is measured under the same machine load at the same time.
* ``concurrency`` worker threads; each worker has its own keep-alive ``TimedClient`` per target, so at most
  ``concurrency`` connections per target are opened and the rest of the requests are warm (``new_connection`` False).
* ``rate`` (requests/s, all targets together) schedules request j at ``start + j / rate``; None = as fast as the
  workers go. A late worker sends at once (no catch-up burst beyond the backlog).
* ``operation``: ``read`` reads one key per target that is written (unmeasured) before the run, so reads find a
  value (a 404 then counts as an error); ``write`` writes to a small rotating set of 32 keys; ``mix`` draws read or write per request with
  ``read_fraction`` (seeded by ``seed`` for repeatable plans). Keys are ``<key_prefix>-<run id>-...``.
* ``progress(done, total, message)`` and ``on_sample(row)`` are called from the calling thread (Streamlit-safe);
  ``stop`` is an optional ``threading.Event`` that ends the run early (the samples so far are returned).

Returns the samples (``dashboard.measure.samples`` schema) sorted by ``elapsed_s``; summarize them with
``dashboard.measure.stats.summarize(df)`` (``warm_only=True`` for connection-setup-free figures).

``physical_floor_ms(target_name, client_location, target_set=None)`` is the round trip at the speed of light in
fiber (no route inflation, no processing) from the client location to the target's region, from the local cloud's
network model (``backend.local.network``); for ``global`` it is the floor to the nearest region of ``target_set``.
``floors(target_set, targets, client_location)`` gives it for several targets (None where unknown).
"""

from __future__ import annotations

import random
import threading
import time

import pandas as pd

from backend.local import network
from dashboard.measure import samples
from dashboard.measure.common import Progress, positive_float, positive_int, run_id
from dashboard.measure.errors import ProbeError
from dashboard.measure.pool import RequestPool, client_for
from dashboard.measure.targets import GLOBAL, TargetSet
from dashboard.measure.timed_client import TimedClient

OPERATIONS = ("read", "write", "mix")
WRITE_KEYS = 32


def plan(targets: list[str], operation: str, count: int, keys: dict, read_fraction: float = 0.5, seed=None):
    """The ordered list of (target, operation, key) requests of a run (pure; exposed for tests)."""
    rng = random.Random(seed)
    jobs = []
    for i in range(count):
        for target in targets:
            op = operation if operation != "mix" else ("read" if rng.random() < read_fraction else "write")
            key = keys["read"] if op == "read" else f"{keys['write']}{i % WRITE_KEYS}"
            jobs.append((target, op, key))
    return jobs


def run_latency(
    target_set: TargetSet,
    targets,
    operation: str = "read",
    count: int = 100,
    concurrency: int = 4,
    rate: float | None = None,
    progress=None,
    key_prefix: str = "probe-lat",
    on_sample=None,
    timeout_s: float = 10.0,
    read_fraction: float = 0.5,
    seed=None,
    stop: threading.Event | None = None,
    value_bytes: int = 16,
) -> pd.DataFrame:
    targets = list(targets or [])
    if not targets:
        raise ProbeError("choose at least one target")
    target_set.require(targets)
    if operation not in OPERATIONS:
        raise ProbeError(f"operation must be one of {', '.join(OPERATIONS)}, got {operation!r}")
    count = positive_int("count", count)
    concurrency = positive_int("concurrency", concurrency)
    rate = positive_float("rate", rate, allow_none=True)
    timeout_s = positive_float("timeout_s", timeout_s)
    if not 0.0 <= read_fraction <= 1.0:
        raise ProbeError(f"read_fraction must be between 0 and 1, got {read_fraction!r}")

    run = run_id()
    keys = {"read": f"{key_prefix}-{run}-r", "write": f"{key_prefix}-{run}-w"}
    value = ("v" * max(1, value_bytes))[: max(1, value_bytes)]
    jobs = plan(targets, operation, count, keys, read_fraction, seed)
    total = len(jobs)
    report = Progress(progress, total)
    report(0, f"preparing {total} requests", force=True)

    epoch = time.perf_counter()
    if any(op == "read" for _, op, _ in jobs):
        _seed_read_keys(target_set, targets, keys["read"], value, timeout_s)

    start = time.perf_counter()

    def send(index: int, clients: dict) -> dict:
        target, op, key = jobs[index]
        client = client_for(
            clients, target, lambda: TimedClient(target, target_set.url(target), timeout_s, epoch=epoch)
        )
        result = client.read(key) if op == "read" else client.write(key, value)
        row = result.row
        if op == "read" and row["status"] == 404:
            # The key was written before the run: its absence is a failure here, not a clean answer.
            row["ok"] = False
            row["error"] = "the key written before the run is missing here (its write failed?)"
        return row

    rows = []
    pool = RequestPool(
        total, concurrency, send, rate, start, stop, name="latency", join_timeout_s=timeout_s + 1
    )
    with pool:
        for row in pool.rows():
            rows.append(row)
            if on_sample is not None:
                on_sample(row)
            report(len(rows), f"{len(rows)}/{total} requests")
    report(len(rows), f"done: {len(rows)} requests in {time.perf_counter() - start:.2f} s", force=True)
    df = samples.to_frame(rows)
    return df.sort_values("elapsed_s", kind="stable").reset_index(drop=True)


def _seed_read_keys(target_set: TargetSet, targets, key: str, value: str, timeout_s: float) -> None:
    """Writes the key the reads will fetch, once in each region (unmeasured). Failures surface later as read errors."""
    regions = {t for t in targets if t != GLOBAL}
    if GLOBAL in targets:
        regions |= set(target_set.regions)
    for region in sorted(regions):
        with TimedClient(region, target_set.url(region), timeout_s) as client:
            client.write(key, value)


# -- the physical floor ----------------------------------------------------------------------------------------


def _location(client_location):
    """A network-model Location from a city / region code / "lat,lon" text, a (lat, lon) pair, or a Location."""
    if isinstance(client_location, str):
        return network.parse_location(client_location)
    if isinstance(client_location, (tuple, list)) and len(client_location) == 2:
        lat, lon = (float(v) for v in client_location)
        return network.Location(f"{lat:.2f},{lon:.2f}", lat, lon)
    if hasattr(client_location, "lat") and hasattr(client_location, "lon"):
        return client_location
    raise ValueError(f"not a client location: {client_location!r}")


def _region_figure(
    kind: str, target_name: str, client_location, target_set: TargetSet | None
) -> float | None:
    figure = network.fiber_floor_rtt_ms if kind == "floor" else network.modelled_rtt_ms
    try:
        location = _location(client_location)
        if target_name == GLOBAL:
            if target_set is None:
                return None
            known = [r for r in target_set.regions if r in network.REGIONS]
            if not known:
                return None
            return min(float(figure(location, network.region(r))) for r in known)
        return float(figure(location, network.region(target_name)))
    except (KeyError, ValueError, TypeError):
        return None


def physical_floor_ms(target_name: str, client_location, target_set: TargetSet | None = None) -> float | None:
    """Round trip at fiber light speed (great circle, no inflation, no processing) from ``client_location`` (a city,
    a region code, ``"lat,lon"`` or a ``(lat, lon)`` pair) to the target's region; for ``global``, to the nearest
    region of ``target_set``. None when the region or the location is unknown to the network model."""
    return _region_figure("floor", target_name, client_location, target_set)


def modelled_rtt_ms(target_name: str, client_location, target_set: TargetSet | None = None) -> float | None:
    """The local cloud's modelled median round trip (measured, calibrated or the fitted formula), same arguments."""
    return _region_figure("modelled", target_name, client_location, target_set)


def model_percentiles(target_set: TargetSet, targets, client_location) -> dict[str, dict | None]:
    """Per target, the network model's p50 / p90 / p99 round trip from ``client_location`` (``global``: to the region
    the router would pick, the nearest), to show next to what was measured; None where the model has no figure."""
    figures = {}
    for target in targets:
        try:
            location = _location(client_location)
            region = target
            if target == GLOBAL:
                known = [r for r in target_set.regions if r in network.REGIONS]
                region = network.nearest_regions(location, known)[0]
            figures[target] = network.rtt_percentiles_ms(location, network.region(region))
        except (IndexError, KeyError, ValueError, TypeError):
            figures[target] = None
    return figures


def floors(target_set: TargetSet, targets, client_location) -> dict[str, float | None]:
    return {t: physical_floor_ms(t, client_location, target_set) for t in targets}

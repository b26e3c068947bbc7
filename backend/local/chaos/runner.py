"""History-checked fault runs against the local cloud (Jepsen-style, on processes on 127.0.0.1).

    python -m backend.local.chaos --minutes 10 --report docs/RELIABILITY.md [--history run.jsonl] [--seed 1]
    python -m backend.local.chaos --seconds 25                  # the short run of `make test`

What it does:

1. starts a ``LocalCloud`` (3 regions by default, network model off so the machine's time goes to operations);
2. K client threads write unique values (``c<client>-<n>``) to fresh keys and to a few hot keys (conflicts across
   regions), through the regions' endpoints and the global endpoint, and read keys back; every operation is
   recorded as invoke / ok / fail / info events (``chaos_checker.py`` says what they mean);
3. a lag probe writes a fresh key in one region and polls another until it is visible (replication lag per pair);
4. a fault schedule injects the faults of ``chaos_faults.py`` one at a time, each healed before the next;
5. after the last heal and the end of the workload: waits for quiescence (the replicator idle and every region's
   table identical: the convergence time), reads every key in every region through the API, and checks the
   history (``chaos_checker.check``).

Exit status 0 when the run converged with no lost acknowledged write and no never-written value, 1 otherwise,
2 on bad arguments.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlsplit

from backend.local.chaos import checker as chaos_checker
from backend.local.chaos import faults as chaos_faults

DEFAULT_REGIONS = ("us-west-2", "eu-central-1", "ap-southeast-2")
REQUEST_TIMEOUT_S = 5.0
HOT_KEYS = 6
LAG_KEYS = 50  # the lag probe cycles through these keys (unique values), so the final read stays short


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


class Endpoint:
    """One keep-alive HTTP/1.1 connection to a base URL, for one thread. ``call`` says what happened:

    ("ok", status, document) when an answer came; ("fail", None, reason) when the request certainly never reached
    the server (refused or no connection); ("info", None, reason) when it may have (timeout, reset after sending)."""

    def __init__(self, base_url: str, timeout: float = REQUEST_TIMEOUT_S):
        parts = urlsplit(base_url)
        self.host, self.port, self.prefix = parts.hostname, parts.port, parts.path.rstrip("/")
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def call(self, method: str, key: str, body: dict | None = None):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.connection.connect()
            except OSError as error:
                self.close()
                return "fail", None, f"connect: {type(error).__name__}"
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload else {}
        try:
            self.connection.request(
                method, f"{self.prefix}/{quote(key, safe='')}", body=payload, headers=headers
            )
            response = self.connection.getresponse()
            raw = response.read()
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return "info", None, type(error).__name__
        try:
            document = json.loads(raw) if raw else {}
        except ValueError:
            document = {"raw": raw[:200].decode(errors="replace")}
        return "ok", response.status, document

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def write(history: History, endpoint: Endpoint, process: str, op: int, target: str, key: str, value: str):
    """One recorded write. A 200 is ok; a 4xx certainly wrote nothing (fail); a 5xx may have (info)."""
    base = {"process": process, "op": op, "f": "write", "key": key, "value": value, "target": target}
    history.record(type="invoke", **base)
    outcome, status, document = endpoint.call("POST", key, {"value": value})
    if outcome == "ok" and status == 200:
        return history.record(
            type="ok", region=document.get("region"), writtenAt=document.get("writtenAt"), **base
        )
    if outcome == "ok":
        kind = "fail" if status < 500 else "info"
        return history.record(type=kind, error=f"HTTP {status}", **base)
    return history.record(type=outcome, error=document, **base)


def read(history: History, endpoint: Endpoint, process: str, op: int, target: str, key: str):
    """One recorded read: a 200 or a 404 is ok (a 404 reads nothing: value null); anything else failed."""
    base = {"process": process, "op": op, "f": "read", "key": key, "target": target}
    history.record(type="invoke", **base)
    outcome, status, document = endpoint.call("GET", key)
    if outcome == "ok" and status == 200:
        return history.record(
            type="ok", value=document.get("value"), region=document.get("readRegion"),
            writtenAt=document.get("writtenAt"), writeRegion=document.get("writeRegion"), **base,
        )  # fmt: skip
    if outcome == "ok" and status == 404:
        return history.record(type="ok", value=None, region=target if target != "global" else None, **base)
    return history.record(type="fail", error=f"HTTP {status}" if outcome == "ok" else document, **base)


class ChaosRun:
    def __init__(
        self,
        seconds: float,
        regions=DEFAULT_REGIONS,
        clients: int = 4,
        seed: int = 1,
        fault_s: float = 4.0,
        gap_s: float = 3.0,
        warmup_s: float = 2.0,
        think_ms: float = 20.0,
        hot_fraction: float = 0.3,
        keys_per_client: int = 400,
        write_fraction: float = 0.6,
        clock_offset_ms: int = 2000,
        network: str = "none",
        history_path: str | Path | None = None,
        quiescence_timeout_s: float = 120.0,
        kinds=chaos_faults.KINDS,
        log=print,
    ):
        self.seconds, self.regions, self.clients, self.seed = seconds, list(regions), clients, seed
        self.fault_s, self.gap_s, self.warmup_s, self.think_s = fault_s, gap_s, warmup_s, think_ms / 1000
        self.hot_fraction, self.write_fraction = hot_fraction, write_fraction
        self.keys_per_client = keys_per_client
        self.clock_offset_ms, self.network = clock_offset_ms, network
        self.history = History(history_path)
        self.quiescence_timeout_s = quiescence_timeout_s
        self.kinds = list(kinds)
        self.log = log
        self.rng = random.Random(seed)
        self.ops = itertools.count()
        self.stop_clients = threading.Event()
        self.active_fault: str | None = None
        self.fault_errors: list[str] = []
        self.cloud = None

    # -- workload ---------------------------------------------------------------------------------------------

    def _targets(self) -> dict[str, str]:
        return {**self.cloud.endpoints["regions"], "global": self.cloud.endpoints["global"]}

    def _client(self, number: int) -> None:
        rng = random.Random(self.seed * 1000 + number)
        process = f"c{number}"
        endpoints = {name: Endpoint(url) for name, url in self._targets().items()}
        names = sorted(endpoints)
        hot = [f"chaos-hot-{i}" for i in range(HOT_KEYS)]
        mine: list[str] = []
        written = 0
        try:
            while not self.stop_clients.is_set():
                target = rng.choice(names)
                if rng.random() < self.write_fraction:
                    own = f"chaos-{process}-{rng.randrange(self.keys_per_client)}"
                    key = rng.choice(hot) if rng.random() < self.hot_fraction else own
                    write(self.history, endpoints[target], process, next(self.ops), target, key,
                          f"{process}-{written}")  # fmt: skip
                    written += 1
                    if key == own:
                        mine.append(key)
                else:
                    key = rng.choice(hot + mine[-20:])
                    read(self.history, endpoints[target], process, next(self.ops), target, key)
                self.stop_clients.wait(self.think_s)
        finally:
            for endpoint in endpoints.values():
                endpoint.close()

    def _lag_probe(self) -> None:
        """Writes a fresh key in one region and polls another every 10 ms until it holds it."""
        regions = self.cloud.endpoints["regions"]
        endpoints = {name: Endpoint(url) for name, url in regions.items()}
        pairs = [(a, b) for a in self.regions for b in self.regions if a != b]
        try:
            for number in itertools.count():
                if self.stop_clients.wait(0.3):
                    return
                src, dst = pairs[number % len(pairs)]
                key = f"chaos-lag-{number % LAG_KEYS}"
                written = write(
                    self.history, endpoints[src], "lag", next(self.ops), src, key, f"lag-{number}"
                )
                if written["type"] != "ok":
                    continue
                acked, fault = time.monotonic(), self.active_fault
                seen = None
                while time.monotonic() - acked < 15.0 and not self.stop_clients.is_set():
                    outcome, status, document = endpoints[dst].call("GET", key)
                    fault = fault or self.active_fault
                    if outcome == "ok" and status == 200 and document.get("value") == written["value"]:
                        seen = time.monotonic()
                        break
                    time.sleep(0.01)
                if self.stop_clients.is_set() and seen is None:
                    return
                self.history.record(
                    type="lag", src=src, dst=dst, key=key, fault=fault,
                    ms=None if seen is None else round((seen - acked) * 1000, 1),
                )  # fmt: skip
        finally:
            for endpoint in endpoints.values():
                endpoint.close()

    # -- faults -----------------------------------------------------------------------------------------------

    def _fault_schedule(self, deadline: float) -> None:
        if self.stop_clients.wait(self.warmup_s):
            return
        for number in itertools.count():
            # every kind runs at least once, even when the machine is slow and that overruns the deadline
            if number >= len(self.kinds) and time.monotonic() + self.fault_s > deadline:
                return
            kind = self.kinds[number % len(self.kinds)]
            region = self.rng.choice(self.regions)
            settings = {"clock_offset_ms": self.rng.choice((-1, 1)) * self.clock_offset_ms}
            detail = {"offset_ms": settings["clock_offset_ms"]} if kind == "clock-offset" else {}
            self.history.record(type="fault", f="start", kind=kind, region=region, **detail)
            self.log(f"[{self.history.now():7.1f} s] fault {kind} in {region} {detail or ''}".rstrip())
            self.active_fault = kind
            heal = None
            try:
                began = time.monotonic()
                heal = chaos_faults.inject(self.cloud, kind, region, settings)
                self.log(f"  injected in {time.monotonic() - began:.1f} s")
                time.sleep(self.fault_s)
            except Exception as error:  # a fault that could not be injected is reported, the run goes on
                self.fault_errors.append(f"{kind} in {region}: {type(error).__name__}: {error}")
                self.log(f"  could not inject: {error}")
            finally:
                try:
                    if heal:
                        began = time.monotonic()
                        heal()
                        self.log(f"  healed in {time.monotonic() - began:.1f} s")
                except Exception as error:
                    self.fault_errors.append(f"healing {kind} in {region}: {type(error).__name__}: {error}")
                    self.log(f"  could not heal: {error}")
                self.active_fault = None
                self.history.record(type="fault", f="heal", kind=kind, region=region)
            time.sleep(self.gap_s)

    # -- the end ------------------------------------------------------------------------------------------------

    def _scan_all(self) -> dict[str, dict[str, dict]]:
        import boto3
        from botocore.config import Config

        states = {}
        for region, url in self.cloud.endpoints["dynamodb"].items():
            client = boto3.client(
                "dynamodb", region_name=region, endpoint_url=url, aws_access_key_id="local",
                aws_secret_access_key="local", config=Config(retries={"max_attempts": 2}),
            )  # fmt: skip
            items, start = {}, None
            while True:
                page = client.scan(TableName="keyvalues", ConsistentRead=True,
                                   **({"ExclusiveStartKey": start} if start else {}))  # fmt: skip
                for item in page.get("Items", []):
                    items[item["key"]["S"]] = {
                        "value": item.get("value", {}).get("S"),
                        "region": item.get("region", {}).get("S"),
                        "writtenAt": int(item["writtenAt"]["N"]) if "writtenAt" in item else None,
                    }
                start = page.get("LastEvaluatedKey")
                if not start:
                    break
            states[region] = items
        return states

    def _wait_for_quiescence(self) -> tuple[float | None, dict]:
        """Seconds until the replicator is idle and every region holds the same items (None: not in time)."""
        started = time.monotonic()
        states: dict = {}
        while time.monotonic() - started < self.quiescence_timeout_s:
            if chaos_faults.replication_idle(chaos_faults.replicator_status(self.cloud)):
                try:
                    states = self._scan_all()
                except Exception as error:  # a region still coming back
                    self.log(f"  scan failed: {error}")
                    states = {}
                if states and all(s == states[self.regions[0]] for s in states.values()):
                    return round(time.monotonic() - started, 3), states
            time.sleep(0.2)
        return None, states

    def _final_reads(self, keys: set[str]) -> dict[str, dict[str, dict]]:
        """Every key in every region through the API (recorded in the history as the final reads)."""

        def read_all(region: str, url: str) -> dict[str, dict]:
            endpoint, found = Endpoint(url, timeout=15.0), {}
            try:
                for key in sorted(keys):
                    event = read(self.history, endpoint, f"final-{region}", next(self.ops), region, key)
                    if event["type"] != "ok":
                        raise RuntimeError(f"final read of {key} in {region} failed: {event.get('error')}")
                    if event["value"] is not None:
                        found[key] = {k: event[k] for k in ("value", "writtenAt")} | {
                            "region": event["writeRegion"]
                        }
            finally:
                endpoint.close()
            return found

        with ThreadPoolExecutor(len(self.regions)) as pool:
            futures = {r: pool.submit(read_all, r, u) for r, u in self.cloud.endpoints["regions"].items()}
            return {region: future.result() for region, future in futures.items()}

    def run(self) -> dict:
        from backend.local.cloud import LocalCloud

        started = time.monotonic()
        self.cloud = LocalCloud(regions=self.regions, network=self.network, failure_threshold=2,
                                health_interval_s=0.5)  # fmt: skip
        load_at_start = os.getloadavg()[0]
        with self.cloud:
            self.history.t0 = time.monotonic()
            self.log(f"local cloud up in {self.cloud.startup_s:.1f} s: {', '.join(self.regions)}; "
                     f"{self.clients} clients for {self.seconds:.0f} s")  # fmt: skip
            deadline = time.monotonic() + self.seconds
            workers = [
                threading.Thread(target=self._client, args=(n,), name=f"client-{n}")
                for n in range(self.clients)
            ]
            workers.append(threading.Thread(target=self._lag_probe, name="lag-probe"))
            for worker in workers:
                worker.start()
            try:
                self._fault_schedule(deadline)
                while time.monotonic() < deadline and not self.stop_clients.wait(0.2):
                    pass
            finally:
                self.stop_clients.set()
                for worker in workers:
                    worker.join()
            self.history.record(type="phase", f="quiesce")
            self.log(f"[{self.history.now():7.1f} s] workload stopped; waiting for quiescence")
            convergence_s, scanned = self._wait_for_quiescence()
            keys = {e["key"] for e in self.history.events if e.get("f") == "write"}
            keys |= {key for state in scanned.values() for key in state}
            final = self._final_reads(keys)
            replication = chaos_faults.replicator_status(self.cloud)
        self.history.close()
        report = chaos_checker.check(self.history.events, final, convergence_s)
        report["scan_matches_api"] = scanned == final if scanned else None
        report["fault_errors"] = self.fault_errors
        report["replicator_pairs"] = (replication or {}).get("pairs", [])
        report["settings"] = {
            "seconds": self.seconds, "regions": self.regions, "clients": self.clients, "seed": self.seed,
            "fault_s": self.fault_s, "gap_s": self.gap_s, "network": self.network,
            "hot_keys": HOT_KEYS, "hot_fraction": self.hot_fraction, "write_fraction": self.write_fraction,
            "keys_per_client": self.keys_per_client, "think_ms": self.think_s * 1000,
            "clock_offset_ms": self.clock_offset_ms, "request_timeout_s": REQUEST_TIMEOUT_S,
        }  # fmt: skip
        report["wall_s"] = round(time.monotonic() - started, 1)
        # the machine is shared: its load says how much the timings (lag, convergence) owe to other work
        report["load_average"] = {"start": round(load_at_start, 1), "end": round(os.getloadavg()[0], 1)}
        return report


def passed(report: dict) -> bool:
    return (
        report["converged"]
        and report["lost_acknowledged_writes"] == 0
        and report["never_written_reads"] == 0
        and report["failed_write_visible"] == 0
        and not report["fault_errors"]
    )


DESIGN_NOTES = """
## How the run works and how to read it

- **History.** Every client operation is an `invoke` event and one completion: `ok` (it happened; a write's
  answer carries its `writtenAt` and region), `fail` (it certainly did not: connection refused, a 4xx) or `info`
  (unknown: a timeout, a connection reset after the request was sent, a 5xx). An `info` write may or may not be
  applied, so a read may return its value without counting as "never written". `--history FILE.jsonl` keeps it.
- **Order of versions.** Last writer wins on (`writtenAt`, region), and at equal (`writtenAt`, region) on the value,
  exactly as the replicator decides (`backend/local/replication.py`). A write is *lost* when a region finally holds
  a lower version of its key (or nothing): being overwritten by a higher version is LWW working, not a loss. A
  region with a skewed clock (the `clock-offset` fault) really does make later writes lose, as on AWS.
- **Faults** (`backend/local/chaos_faults.py`), one at a time, healed before the next: replication paused into a
  region (control API); the replicator killed with `kill -9` and restarted on its checkpoints; a region's process
  killed with `kill -9` and started again on the same ports; a region stopped with `SIGSTOP` then `SIGCONT`; a
  region's writer clock moved ahead or behind.
- **A killed region comes back empty** (moto keeps nothing) and is refilled by the replicator's backfill from its
  peers, as AWS fills a new replica. DynamoDB's storage survives any crash of the compute in front of it; moto's
  doesn't, so before the kill the region is fenced (replication into it paused, its endpoint answering 503) until
  the replicator has read its stream to the end. Without the fence, a write acknowledged in the last ~15-50 ms
  before the kill (one stream poll) would exist only in the killed process: an artefact of the emulator, not of
  the design, which the fence removes.
- **Quiescence and the final read.** After the last heal and the end of the workload the run waits until the
  replicator is idle and every region's table scan is identical (the convergence time), then reads every key in
  every region through the API; that final state is what the checker compares.
- **Lag** is measured by a probe that writes a key in one region and polls another every 10 ms through the API, so
  it includes up to one poll interval and one GET; samples taken while a fault was active are kept apart.
- **Stale reads** are counted, not failed: global tables promise eventual consistency. A read served by the region
  that acknowledged the newer write is only stale after that region was killed and not yet backfilled.

## Bugs this run found (fixed, with regression tests)

- moto numbered stream records `len(items) + start` before appending them, with no lock: two concurrent writes in
  a region (gateway threads and moto's HTTP threads) got the same sequence number, and the replicator, which
  skips a sequence number it has already read, never replicated the second write. Found as acknowledged writes
  missing in one region after healing, with the replicator idle. Fixed by `backend/local/moto_writes.py` (moto's
  DynamoDB writes under one lock in the region process, conditions included);
  `tests/functional/test_chaos_moto_writes.py` reproduces 13 duplicate numbers in 480 concurrent puts without it.
  (The replication engineer found the same race in parallel: `stream_janitor.install()` also serializes
  `StreamShard.add`, and the replicator now tells records apart by `eventID` at equal sequence numbers.)
- A backfill that waited while its region was fenced (the next restart of the same region) finished into the
  new, empty table with only its remaining items and cleared the "backfill pending" flag: the first 10-minute run
  ended with eu-central-1 missing 700 of 1,645 keys while the replicator reported itself idle. A backfill now
  counts as done only if the target's table (its stream ARN) is the one it began copying into;
  `tests/functional/test_chaos_backfill.py` (21 of 40 items without the fix).
- Every replicator restart began a backfill from its first item again; under load (3,400 conditional puts at
  20-50 ms each) it never finished between two kills about 70 s apart. It now skips what the target already
  holds (same file: 40 puts without the change, 11 with it).
- The fault injector itself: a region-restart fence that could not drain in time was left in place (the region
  answering 503 and replication into it paused for the rest of the run). It is now undone before the error is
  reported, and the drain waits up to 60 s.
"""


def _load_text(load: dict | None) -> str:
    if not load:
        return "not recorded"
    if "text" in load:
        return load["text"]
    return f"{load['start']} at the start, {load['end']} at the end"


def render(report: dict, command: str) -> str:
    """The report as Markdown (docs/RELIABILITY.md)."""
    s = report["settings"]
    verdict = "PASS" if passed(report) else "FAIL"
    lines = [
        "# Reliability: history-checked fault runs of the local cloud",
        "",
        f"Result: **{verdict}**. Reproduce with:",
        "",
        "```",
        command,
        "```",
        "",
        f"Workload: {s['write_fraction']:.0%} of each client's operations are writes of unique values, to its own "
        f"{s['keys_per_client']} keys or ({s['hot_fraction']:.0%} of writes) to {s['hot_keys']} hot keys every client writes (conflicts "
        f"across regions), through a random region's endpoint or the global one, and reads back its recent keys and "
        f"the hot ones; {s['think_ms']:.0f} ms between operations.",
        "",
        f"Run: {s['seconds'] / 60:.1f} minutes of workload ({report['wall_s']} s wall clock with start-up, quiescence "
        f"and final reads), regions {', '.join(s['regions'])}, {s['clients']} client threads + 1 lag probe, seed "
        f"{s['seed']}, network model `{s['network']}`, each fault {s['fault_s']} s then {s['gap_s']} s healed, "
        f"request timeout {s['request_timeout_s']} s (a timeout is `info`: indeterminate). Machine: "
        f"{os.cpu_count()} cores, shared; 1-minute load average {_load_text(report.get('load_average'))}.",
        "",
        "## Checks",
        "",
        "| check | result |",
        "|---|---|",
        f"| every region identical after healing (converged) | {'yes' if report['converged'] else 'NO'} "
        f"({report['divergent_key_count']} divergent keys) |",
        f"| acknowledged writes lost (not superseded by a higher (writtenAt, region) write) | "
        f"{report['lost_acknowledged_writes']} (of {report['acknowledged_writes']} acknowledged) |",
        f"| values read that were never written | {report['never_written_reads']} |",
        f"| values read whose write had certainly failed | {report['failed_write_visible']} |",
        f"| convergence time after the last heal and the end of the workload | "
        f"{report['convergence_s'] if report['convergence_s'] is not None else 'not reached'} s |",
        f"| final state read through the API equals each region's table scan | {report['scan_matches_api']} |",
        f"| items per region at the end | {', '.join(f'{r}: {n}' for r, n in report['items_per_region'].items())} |",
        f"| faults that could not be injected or healed | {len(report['fault_errors'])} |",
        "",
        "## Operations",
        "",
        "| operation:outcome | count |",
        "|---|---|",
        *[f"| {name} | {count} |" for name, count in report["operations"].items()],
        f"| **total** | {report['operations_total']} |",
        "",
        f"Keys written: {report['keys']}. Reads include the final read of every key in every region.",
        "",
        "## Faults injected",
        "",
        "| kind | count |",
        "|---|---|",
        *[f"| {kind} | {count} |" for kind, count in report["faults"].items()],
        "",
        "## Stale reads",
        "",
        "A read is stale when a write of its key was acknowledged before the read began and the read returned an older "
        "version or nothing. Expected under asynchronous replication (global tables promise eventual consistency); "
        "counted, not failed.",
        "",
        f"- reads: {report['stale_reads']['reads']}; stale: {report['stale_reads']['total']} "
        f"(served by the region that acknowledged the newer write: {report['stale_reads']['same_region']}; "
        f"by another region: {report['stale_reads']['other_region']})",
        "",
        "## Replication lag per pair (lag probe, ms from the write's acknowledgement to the first read that sees it)",
        "",
        "| pair | samples | p50 | p90 | p99 | max | no-fault p50 | no-fault p99 | not seen in 15 s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for pair, lag in report["lag_ms"].items():
        a, q = lag["all"], lag["no_fault"]
        lines.append(
            f"| {pair} | {a['count']} | {a['p50']} | {a['p90']} | {a['p99']} | {a['max']} | {q['p50']} | {q['p99']} "
            f"| {lag['not_seen']} |"
        )
    lines += [
        "",
        "The replicator's own ReplicationLatency (CloudWatch's metric: from the source stream record's creation to the "
        "apply; since the replicator's last restart). It counts catch-up: records held while replication into a region "
        "was paused (the replication-pause and region-restart faults) and records read again after a kill are applied "
        "late, so its tail measures how long faults held changes back, not steady-state lag; the probe's no-fault "
        "columns above are the steady-state figures (and include the machine's load: see the load average).",
        "",
        "| pair | applied | p50 | p99 | max |",
        "|---|---|---|---|---|",
        *[
            f"| {p['source']} -> {p['destination']} | {p['count']} | {p['p50_ms']} | {p['p99_ms']} | {p['max_ms']} |"
            for p in report.get("replicator_pairs", [])
        ],
    ]
    lines += ["", *DESIGN_NOTES.strip("\n").splitlines()]
    if report["fault_errors"]:
        lines += ["", "## Fault errors", "", *[f"- {e}" for e in report["fault_errors"]]]
    for name in ("lost_examples", "never_written_examples", "divergent_keys"):
        if report.get(name):
            lines += ["", f"## {name}", "", "```", json.dumps(report[name], indent=1)[:3000], "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.local.chaos", description=__doc__.split("\n")[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="workload duration in minutes")
    length.add_argument("--seconds", type=float, help="workload duration in seconds (default 25)")
    parser.add_argument("--report", help="write the Markdown report here (e.g. docs/RELIABILITY.md)")
    parser.add_argument("--history", help="write the history here (JSONL)")
    parser.add_argument("--json", help="write the checker's report here (JSON)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--regions", default=",".join(DEFAULT_REGIONS))
    parser.add_argument("--fault-seconds", type=float, default=None, help="how long each fault lasts")
    parser.add_argument("--gap-seconds", type=float, default=None, help="healed time between faults")
    parser.add_argument("--network", default="none", choices=("none", "realistic"))
    parser.add_argument("--think-ms", type=float, default=20.0, help="each client's pause between operations")
    parser.add_argument("--keys-per-client", type=int, default=400)
    parser.add_argument(
        "--quiescence-timeout",
        type=float,
        default=600.0,
        help="seconds to wait for convergence after healing",
    )
    parser.add_argument("--from-json", help="render a report saved with --json again (no run)")
    args = parser.parse_args(argv)
    if args.from_json:
        try:
            saved = json.loads(Path(args.from_json).read_text())
            text = render(saved, saved.get("command", "python -m backend.local.chaos"))
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"error: {args.from_json} is not a report saved by --json: {error!r}", file=sys.stderr)
            return 2
        if args.report:
            Path(args.report).write_text(text)
        print(text)
        return 0 if passed(saved) else 1
    seconds = args.minutes * 60 if args.minutes is not None else (args.seconds or 25.0)
    if seconds <= 0 or args.clients < 1:
        parser.error("the duration and --clients must be positive")
    short = seconds < 120
    try:
        from backend.local.cloud import check_regions

        regions = check_regions(args.regions)
    except ValueError as error:
        parser.error(str(error))
    if len(regions) < 2:
        parser.error("a fault run needs at least 2 regions")
    run = ChaosRun(
        seconds, regions=regions, clients=args.clients, seed=args.seed,
        fault_s=args.fault_seconds or (2.5 if short else 6.0), gap_s=args.gap_seconds or (1.5 if short else 4.0),
        network=args.network, history_path=args.history, think_ms=args.think_ms,
        keys_per_client=args.keys_per_client, quiescence_timeout_s=args.quiescence_timeout,
    )  # fmt: skip
    report = run.run()
    command = "python -m backend.local.chaos " + " ".join(sys.argv[1:] if argv is None else argv)
    report["command"] = command.strip()
    text = render(report, report["command"])
    if args.report:
        Path(args.report).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str))
    print(text)
    return 0 if passed(report) else 1


if __name__ == "__main__":
    sys.exit(main())

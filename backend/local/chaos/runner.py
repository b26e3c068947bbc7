"""The fault run itself (``ChaosRun``): a local cloud, client threads, a lag probe and a fault schedule, then
quiescence, the final reads and the checker's report. The steps are in the package's docstring (``__init__.py``).
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from backend.local.chaos import checker, faults
from backend.local.chaos.clients import (
    REQUEST_TIMEOUT_S,
    Endpoint,
    direct_write,
    read,
    scan_table,
    scan_versions,
    strong_read,
    strong_reader,
    write,
)
from backend.local.chaos.history import History
from backend.local.dynamodb import strong
from backend.local.replication.wire import WireClient

DEFAULT_REGIONS = ("us-west-2", "eu-central-1", "ap-southeast-2")
STRONG_REGIONS = strong.REGION_SETS["US"]  # MRSC: three regions of one region set
HOT_KEYS = 6
LAG_KEYS = 50  # the lag probe cycles through these keys (unique values), so the final read stays short
LAG_PATIENCE_S = 15.0  # a lag sample not seen within this long is counted as "not seen"


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
        direct_fraction: float = 0.25,
        clock_offset_ms: int = 2000,
        network: str = "none",
        history_path: str | Path | None = None,
        quiescence_timeout_s: float = 120.0,
        kinds=None,
        consistency: str = "eventual",
        witness: str | None = None,
        strong_read_fraction: float = 0.7,
        log=print,
    ):
        self.seconds, self.regions, self.clients, self.seed = seconds, list(regions), clients, seed
        self.fault_s, self.gap_s, self.warmup_s, self.think_s = fault_s, gap_s, warmup_s, think_ms / 1000
        self.hot_fraction, self.write_fraction, self.direct_fraction = hot_fraction, write_fraction, direct_fraction
        self.keys_per_client = keys_per_client
        self.clock_offset_ms, self.network = clock_offset_ms, network
        self.history = History(history_path)
        self.quiescence_timeout_s = quiescence_timeout_s
        self.consistency, self.witness, self.strong_read_fraction = consistency, witness, strong_read_fraction
        self.strong = consistency == "strong"
        self.kinds = list(kinds or (faults.STRONG_KINDS if self.strong else faults.KINDS))
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
        direct = {region: WireClient(url, region, timeout_s=REQUEST_TIMEOUT_S)
                  for region, url in self.cloud.endpoints["dynamodb"].items()}  # fmt: skip
        # MRSC runs: strongly consistent reads straight to a random region's DynamoDB (boto3, never retrying)
        readers = {region: strong_reader(url, region) for region, url in self.cloud.endpoints["dynamodb"].items()
                   if self.strong}  # fmt: skip
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
                    value = f"{process}-{written}"
                    if target in direct and rng.random() < self.direct_fraction:  # a DynamoDB client, no app
                        direct_write(self.history, direct[target], process, next(self.ops), target, key, value,
                                     update=rng.random() < 0.5)  # fmt: skip
                    else:
                        write(self.history, endpoints[target], process, next(self.ops), target, key, value)
                    written += 1
                    if key == own:
                        mine.append(key)
                else:
                    key = rng.choice(hot + mine[-20:])
                    if readers and rng.random() < self.strong_read_fraction:
                        region = rng.choice(sorted(readers))
                        strong_read(self.history, readers[region], process, next(self.ops), region, key)
                    else:
                        read(self.history, endpoints[target], process, next(self.ops), target, key)
                self.stop_clients.wait(self.think_s)
        finally:
            for endpoint in endpoints.values():
                endpoint.close()
            for client in [*direct.values(), *readers.values()]:
                client.close()

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
                acked = time.monotonic()
                seen, fault = self._poll_until_seen(endpoints[dst], key, written["value"], acked)
                if self.stop_clients.is_set() and seen is None:
                    return
                self.history.record(
                    type="lag", src=src, dst=dst, key=key, fault=fault,
                    ms=None if seen is None else round((seen - acked) * 1000, 1),
                )  # fmt: skip
        finally:
            for endpoint in endpoints.values():
                endpoint.close()

    def _poll_until_seen(self, endpoint: Endpoint, key: str, value: str, acked: float):
        """(when the value was first read or None, the fault active at any time since the write or None)."""
        fault = self.active_fault
        while time.monotonic() - acked < LAG_PATIENCE_S and not self.stop_clients.is_set():
            outcome, status, document = endpoint.call("GET", key)
            fault = fault or self.active_fault
            if outcome == "ok" and status == 200 and document.get("value") == value:
                return time.monotonic(), fault
            time.sleep(0.01)
        return None, fault

    # -- faults -----------------------------------------------------------------------------------------------

    def _fault_schedule(self, deadline: float) -> None:
        if self.stop_clients.wait(self.warmup_s):
            return
        for number in itertools.count():
            # every kind runs at least once, even when the machine is slow and that overruns the deadline
            if number >= len(self.kinds) and time.monotonic() + self.fault_s > deadline:
                return
            self._one_fault(self.kinds[number % len(self.kinds)], self.rng.choice(self.regions))
            time.sleep(self.gap_s)

    def _one_fault(self, kind: str, region: str) -> None:
        """Injects one fault, lets it last ``fault_s``, heals it; errors are reported, the run goes on."""
        settings = {"clock_offset_ms": self.rng.choice((-1, 1)) * self.clock_offset_ms}
        detail = {"offset_ms": settings["clock_offset_ms"]} if kind == "clock-offset" else {}
        self.history.record(type="fault", f="start", kind=kind, region=region, **detail)
        self.log(f"[{self.history.now():7.1f} s] fault {kind} in {region} {detail or ''}".rstrip())
        self.active_fault = kind
        heal = None
        try:
            began = time.monotonic()
            heal = faults.inject(self.cloud, kind, region, settings)
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
            states[region] = scan_table(client)
        return states

    def _wait_for_quiescence(self) -> tuple[float | None, dict]:
        """Seconds until the replicator is idle and every region holds the same items (None: not in time)."""
        started = time.monotonic()
        states: dict = {}
        while time.monotonic() - started < self.quiescence_timeout_s:
            if faults.replication_idle(faults.replicator_status(self.cloud)):
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
            final = {region: future.result() for region, future in futures.items()}
        for region, items in final.items():  # the hidden versions the checker orders writes by
            held = scan_versions(self.cloud.region_info[region]["admin"] + "/__admin/dynamodb", region)
            for key, item in items.items():
                item["version"] = held.get(key)
        return final

    # -- the run ------------------------------------------------------------------------------------------------

    def _workload(self) -> None:
        """The clients, the lag probe and the fault schedule, until the deadline and the last heal."""
        deadline = time.monotonic() + self.seconds
        workers = [
            threading.Thread(target=self._client, args=(n,), name=f"client-{n}") for n in range(self.clients)
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

    def _settings(self) -> dict:
        return {
            "seconds": self.seconds, "regions": self.regions, "clients": self.clients, "seed": self.seed,
            "fault_s": self.fault_s, "gap_s": self.gap_s, "network": self.network,
            "hot_keys": HOT_KEYS, "hot_fraction": self.hot_fraction, "write_fraction": self.write_fraction,
            "direct_fraction": self.direct_fraction,
            "keys_per_client": self.keys_per_client, "think_ms": self.think_s * 1000,
            "clock_offset_ms": self.clock_offset_ms, "request_timeout_s": REQUEST_TIMEOUT_S,
            "consistency": self.consistency, "witness": self.witness, "kinds": self.kinds,
            "strong_read_fraction": self.strong_read_fraction if self.strong else 0.0,
        }  # fmt: skip

    def run(self) -> dict:
        from backend.local.cloud import LocalCloud

        started = time.monotonic()
        self.cloud = LocalCloud(regions=self.regions, network=self.network, failure_threshold=2,
                                health_interval_s=0.5, consistency=self.consistency, witness=self.witness)  # fmt: skip
        load_at_start = os.getloadavg()[0]
        with self.cloud:
            self.history.t0 = time.monotonic()
            mode = f", {self.consistency} consistency" + (f", witness {self.witness}" if self.witness else "")
            self.log(f"local cloud up in {self.cloud.startup_s:.1f} s: {', '.join(self.regions)}{mode}; "
                     f"{self.clients} clients for {self.seconds:.0f} s")  # fmt: skip
            self._workload()
            self.history.record(type="phase", f="quiesce")
            self.log(f"[{self.history.now():7.1f} s] workload stopped; waiting for quiescence")
            convergence_s, scanned = self._wait_for_quiescence()
            keys = {e["key"] for e in self.history.events if e.get("f") == "write"}
            keys |= {key for state in scanned.values() for key in state}
            final = self._final_reads(keys)
            replication = faults.replicator_status(self.cloud)
        self.history.close()
        report = checker.check(self.history.events, final, convergence_s)
        unversioned = {r: {k: {f: v for f, v in item.items() if f != "version"} for k, item in items.items()}
                       for r, items in final.items()}  # fmt: skip
        report["scan_matches_api"] = scanned == unversioned if scanned else None
        report["fault_errors"] = self.fault_errors
        report["replicator_pairs"] = (replication or {}).get("pairs", [])
        report["settings"] = self._settings()
        report["wall_s"] = round(time.monotonic() - started, 1)
        # the machine is shared: its load says how much the timings (lag, convergence) owe to other work
        report["load_average"] = {"start": round(load_at_start, 1), "end": round(os.getloadavg()[0], 1)}
        return report

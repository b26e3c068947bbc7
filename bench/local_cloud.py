"""Benchmarks of the local cloud (issue 3), every figure next to a baseline measured in the same run.

    python -m bench [--quick]          (the local cloud part alone: python -m bench.local_cloud [--quick])

1. One region, network "none": GET and POST p50/p99 and throughput at 1 and 8 client threads (one keep-alive
   ``requests.Session`` per thread) through the region's gateway, against two baselines on the same DynamoDB (the
   region's moto): direct boto3 calls to the region's DynamoDB endpoint, and serverless-offline@13 (run by osls)
   serving the same handlers. Systems are measured in interleaved rounds and the median round is kept, so a burst of
   load from other processes on the machine hits every system alike.
2. Startup time: one region alone, and the default two-region cloud (regions, replicator, router, control).
3. Replication lag with network "none": the replicator's ReplicationLatency (stream record created → applied), and
   a client's view (write in one region, poll the other region's table until the item is there).
4. RSS of the whole two-region stack after 100,000 writes (on 1,000 keys, 8 writer threads) once replication is
   quiescent, and after as many stream polls as an hour of the replicator idling makes.

Targets (issue 3): GET p50 ≤ 0.5× serverless-offline's; throughput ≥ 2× serverless-offline's; added p50 over direct
boto3 ≤ 2 ms; lag p50 ≤ 100 ms and p99 ≤ 300 ms; stack RSS ≤ 300 MB.
Results: printed, and written to bench/results/local_cloud.json and bench/results/local_cloud.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from backend.local.cloud import LocalCloud  # noqa: E402
from backend.local.memory import rss_bytes  # noqa: E402

RESULTS = ROOT / "bench" / "results"
US, EU = "us-west-2", "eu-central-1"
TABLE = "keyvalues"
REPLICATOR_IDLE_POLLS_PER_S = (
    40  # the replicator polls an idle stream every 25 ms (replicator.DEFAULT_POLL_INTERVAL_MS)
)


# ---------------------------------------------------------------------------------------------- statistics


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def run_load(make_worker, threads: int, requests_per_thread: int) -> dict:
    """Runs ``threads`` workers, each made by ``make_worker(thread_index)`` → a callable(i) doing one request.

    Returns p50/p99 (ms), throughput (requests/s over the wall time) and errors."""
    workers = [make_worker(index) for index in range(threads)]
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    barrier = threading.Barrier(threads + 1)

    def body(index: int) -> None:
        call, own = workers[index], latencies[index]
        barrier.wait()
        for i in range(requests_per_thread):
            started = time.perf_counter()
            try:
                ok = call(i)
            except Exception:
                ok = False
            own.append((time.perf_counter() - started) * 1000)
            if not ok:
                errors[index] += 1

    pool = [threading.Thread(target=body, args=(index,)) for index in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    every = [value for own in latencies for value in own]
    return {
        "requests": len(every),
        "errors": sum(errors),
        "p50_ms": round(quantile(every, 0.50), 3),
        "p99_ms": round(quantile(every, 0.99), 3),
        "throughput_rps": round(len(every) / wall, 1),
    }


def median_round(rounds: list[dict]) -> dict:
    """The per-field median over interleaved rounds."""
    keys = rounds[0].keys()
    return {key: round(statistics.median(r[key] for r in rounds), 3) for key in keys}


# ------------------------------------------------------------------------------------------------- systems


def http_workers(base_url: str, method: str, key_space: int = 100):
    """Workers for a system reached over HTTP (the local gateway or serverless-offline)."""

    def make(index: int):
        session = requests.Session()
        if method == "GET":
            url = f"{base_url}/bench-key"
            return lambda i: session.get(url, timeout=30).status_code == 200
        payload = json.dumps({"value": "x" * 100})
        return lambda i: (
            session.post(f"{base_url}/bench-{index}-{i % key_space}", data=payload, timeout=30).status_code
            == 200
        )

    return make


def boto3_workers(dynamodb_url: str, method: str, key_space: int = 100):
    """Workers calling the region's DynamoDB endpoint directly (what the handler does, without gateway or handler)."""
    import boto3
    from botocore.config import Config

    def make(index: int):
        session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=US
        )
        client = session.client(
            "dynamodb", endpoint_url=dynamodb_url, config=Config(retries={"max_attempts": 1})
        )
        if method == "GET":
            return lambda i: "Item" in client.get_item(TableName=TABLE, Key={"key": {"S": "bench-key"}})
        now = str(int(time.time() * 1000))

        def put(i):
            client.put_item(
                TableName=TABLE,
                Item={
                    "key": {"S": f"bench-{index}-{i % key_space}"},
                    "value": {"S": "x" * 100},
                    "region": {"S": US},
                    "writtenAt": {"N": now},
                },
            )
            return True

        return put

    return make


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerlessOffline:
    """serverless-offline@13 (through osls) serving backend/handlers against a given DynamoDB endpoint."""

    CONFIG = """service: bench-keyvalue
frameworkVersion: '>=3'
plugins:
  - serverless-offline
provider:
  name: aws
  runtime: python3.11
  stage: dev
  region: us-west-2
  environment:
    KEY_TABLE: keyvalues
    AWS_ENDPOINT_URL_DYNAMODB: {dynamodb}
    AWS_ACCESS_KEY_ID: local
    AWS_SECRET_ACCESS_KEY: local
functions:
  getKey:
    handler: backend/handlers/get_key.main
    events: [{{http: {{path: '/{{key}}', method: get, cors: true}}}}]
  setKey:
    handler: backend/handlers/set_key.main
    events: [{{http: {{path: '/{{key}}', method: post, cors: true}}}}]
"""

    def __init__(self, dynamodb_url: str):
        self.dynamodb_url = dynamodb_url
        self.folder = Path(tempfile.mkdtemp(prefix="bench-sls-"))
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> str | None:
        """None if it can run here, else why not."""
        if not (ROOT / "node_modules" / ".bin" / "osls").exists():
            return "node_modules/.bin/osls is missing (npm ci)"
        if not (ROOT / "node_modules" / "serverless-offline").exists():
            return "node_modules/serverless-offline is missing (npm ci)"
        if shutil.which("node") is None:
            return "node is not on PATH"
        return None

    def start(self, timeout_s: float = 90) -> str:
        (self.folder / "serverless.yml").write_text(self.CONFIG.format(dynamodb=self.dynamodb_url))
        (self.folder / "backend").symlink_to(ROOT / "backend")
        (self.folder / "node_modules").symlink_to(ROOT / "node_modules")
        environment = dict(os.environ)
        # serverless-offline runs whatever python3 is first on PATH: ours, with boto3.
        environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
        environment["SLS_TELEMETRY_DISABLED"] = "1"
        environment["SLS_NOTIFICATIONS_MODE"] = "off"
        self.log = open(self.folder / "offline.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(ROOT / "node_modules" / ".bin" / "osls"),
                "offline",
                "start",
                "--host",
                "127.0.0.1",
                "--httpPort",
                str(self.port),
                "--lambdaPort",
                str(_free_port()),
                "--noTimeout",
            ],
            cwd=self.folder,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        url = f"http://127.0.0.1:{self.port}/dev"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                requests.get(f"{url}/bench-key", timeout=30)
                return url
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            "serverless-offline did not start: " + (self.folder / "offline.log").read_text()[-2000:]
        )

    def rss(self) -> int:
        if self.process is None:
            return 0
        return sum(rss_bytes(pid) for pid in [self.process.pid, *_descendants(self.process.pid)])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            import signal

            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def _descendants(pid: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found.extend(frontier)
    return found


def stack_rss(cloud: LocalCloud) -> int:
    return sum(rss_bytes(pid) for pid in cloud.pids.values())


# ---------------------------------------------------------------------------------------------- the benches


def bench_request_path(rounds: int, per_thread_1: int, per_thread_8: int) -> dict:
    """Section 1: one region, network none; local gateway vs direct boto3 vs serverless-offline."""
    results: dict = {"rounds": rounds}
    with LocalCloud(regions=[US], network="none", replicate=False) as cloud:
        api, dynamodb = cloud.endpoints["regions"][US], cloud.endpoints["dynamodb"][US]
        requests.post(f"{api}/bench-key", json={"value": "v" * 100}, timeout=30).raise_for_status()
        systems = {
            "local_gateway": lambda method: http_workers(api, method),
            "direct_boto3": lambda method: boto3_workers(dynamodb, method),
        }
        offline = None
        why_not = ServerlessOffline.available()
        if why_not is None:
            offline = ServerlessOffline(dynamodb)
            try:
                offline_url = offline.start()
                systems["serverless_offline"] = lambda method: http_workers(offline_url, method)
            except RuntimeError as error:
                why_not = str(error)
                offline = None
        results["serverless_offline_skipped"] = why_not
        try:
            # Warm-up: imports, connection pools, serverless-offline's Python workers (one per concurrent request).
            for make in systems.values():
                for method in ("GET", "POST"):
                    run_load(make(method), 8, 20)
            for method in ("GET", "POST"):
                for threads, count in ((1, per_thread_1), (8, per_thread_8)):
                    collected = {name: [] for name in systems}
                    for _ in range(rounds):
                        for name, make in systems.items():
                            collected[name].append(run_load(make(method), threads, count))
                    for name, measured in collected.items():
                        results.setdefault(name, {})[f"{method}_{threads}t"] = median_round(measured)
            if offline is not None:
                results["serverless_offline_rss_mb"] = round(offline.rss() / 2**20, 1)
        finally:
            if offline is not None:
                offline.stop()
        results["local_gateway_rss_mb"] = round(stack_rss(cloud) / 2**20, 1)
    return results


def bench_startup(repeat: int) -> dict:
    one, two = [], []
    for _ in range(repeat):
        with LocalCloud(regions=[US], network="none", replicate=False) as cloud:
            one.append(cloud.startup_s)
        with LocalCloud(regions=[US, EU], network="none") as cloud:
            two.append(cloud.startup_s)
    return {
        "one_region_s": round(statistics.median(one), 2),
        "two_region_cloud_s": round(statistics.median(two), 2),
        "runs": repeat,
    }


def _local_client(cloud: LocalCloud, service: str, region: str):
    """A boto3 client of a region's DynamoDB endpoint (``service``: dynamodb or dynamodbstreams)."""
    import boto3

    return boto3.client(
        service,
        region_name=region,
        endpoint_url=cloud.endpoints["dynamodb"][region],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def bench_replication_and_memory(
    lag_writes: int, total_writes: int, idle_polls: int, burst: int = 4000
) -> dict:
    """Sections 3 and 4 on one two-region cloud with network none."""
    results: dict = {}
    with LocalCloud(regions=[US, EU], network="none") as cloud:
        api = cloud.endpoints["regions"][US]
        eu_table = _local_client(cloud, "dynamodb", EU)
        session = requests.Session()
        results["rss_idle_mb"] = round(stack_rss(cloud) / 2**20, 1)
        # -- lag as a client sees it: write in us-west-2, poll eu-central-1's table until the item is there.
        client_lags = []
        for i in range(lag_writes):
            key = f"lag-{i}"
            written = session.post(f"{api}/{key}", json={"value": "x"}, timeout=30)
            written.raise_for_status()
            started = time.perf_counter()
            while "Item" not in eu_table.get_item(TableName=TABLE, Key={"key": {"S": key}}):
                if time.perf_counter() - started > 10:
                    break
            client_lags.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)
        latency = cloud.control.replication_latency()
        results["lag_client_view"] = {
            "writes": lag_writes,
            "p50_ms": round(quantile(client_lags, 0.5), 1),
            "p99_ms": round(quantile(client_lags, 0.99), 1),
        }
        results["replication_latency_reported"] = latency
        # -- memory after many writes: bursts of BURST writes at full speed (8 threads through the gateway, 1,000
        # keys), each followed by replication catching up. A single burst of all of them is also possible
        # (--burst 100000), but then the replicator's backlog (and the untrimmed stream behind it) is the memory.
        bursts = max(1, total_writes // burst)
        count = errors = 0
        write_s = catch_up_s = 0.0
        peak = 0
        backlog_peak = 0
        for _ in range(bursts):
            started = time.perf_counter()
            load = run_load(http_workers(api, "POST", key_space=125), 8, burst // 8)
            write_s += time.perf_counter() - started
            count, errors = count + load["requests"], errors + load["errors"]
            peak = max(peak, stack_rss(cloud))
            started = time.perf_counter()
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                pairs = cloud.control.status()["replication"]["pairs"]
                backlog = sum(pair["backlog"] for pair in pairs)
                backlog_peak = max(backlog_peak, backlog)
                if backlog == 0:
                    break
                time.sleep(0.5)
            catch_up_s += time.perf_counter() - started
        results["rss_peak_writes_mb"] = round(peak / 2**20, 1)
        time.sleep(12)  # two janitor passes (the replicator trims every 5 s)
        results["writes"] = {
            "count": count,
            "errors": errors,
            "keys": 1000,
            "bursts": bursts,
            "burst_size": burst,
            "write_rps": round(count / write_s, 1),
            "replication_catch_up_s_total": round(catch_up_s, 1),
            "replicated_rps": round(count / (write_s + catch_up_s), 1),
            "backlog_peak_seen": backlog_peak,
        }
        results["rss_after_writes_mb"] = round(stack_rss(cloud) / 2**20, 1)
        results["rss_per_process_mb"] = {
            name: round(rss_bytes(pid) / 2**20, 1) for name, pid in cloud.pids.items()
        }
        # -- memory after an hour's worth of idle stream polls (driven faster than the replicator would).
        results["idle_polls"] = _drive_stream_polls(cloud, idle_polls)
        time.sleep(12)
        results["rss_after_idle_polls_mb"] = round(stack_rss(cloud) / 2**20, 1)
    return results


def _drive_stream_polls(cloud: LocalCloud, polls: int) -> dict:
    """``polls`` empty ``get_records`` calls against each region's stream, each with a fresh iterator, as the
    replicator makes them while idle (it asks for a new iterator after each read)."""
    def poll_region(region: str, count: int, out: dict) -> None:
        streams = _local_client(cloud, "dynamodbstreams", region)
        table = _local_client(cloud, "dynamodb", region)
        arn = table.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
            "ShardIterator"
        ]
        done = 0
        for _ in range(count):
            answer = streams.get_records(ShardIterator=iterator, Limit=100)
            iterator = answer.get("NextShardIterator") or iterator
            done += 1
        out[region] = done

    per_region = polls
    out: dict = {}
    started = time.perf_counter()
    threads = [threading.Thread(target=poll_region, args=(r, per_region, out)) for r in (US, EU)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "per_region": out,
        "seconds": round(time.perf_counter() - started, 1),
        "equivalent_idle_hours": round(per_region / (REPLICATOR_IDLE_POLLS_PER_S * 3600), 2),
    }


# -------------------------------------------------------------------------------------------------- report


def verdicts(results: dict) -> list[tuple[str, str, bool | None]]:
    checks = []
    path = results.get("request_path", {})
    local, boto, offline = (
        path.get("local_gateway", {}),
        path.get("direct_boto3", {}),
        path.get("serverless_offline"),
    )
    if offline:
        ratio = local["GET_1t"]["p50_ms"] / offline["GET_1t"]["p50_ms"]
        checks.append(("GET p50 ≤ 0.5× serverless-offline's (1 thread)", f"{ratio:.2f}×", ratio <= 0.5))
        for method in ("GET", "POST"):
            ratio = local[f"{method}_8t"]["throughput_rps"] / offline[f"{method}_8t"]["throughput_rps"]
            checks.append(
                (f"{method} throughput ≥ 2× serverless-offline's (8 threads)", f"{ratio:.2f}×", ratio >= 2)
            )
    elif path:
        checks.append(
            ("serverless-offline comparison", f"skipped: {path.get('serverless_offline_skipped')}", None)
        )
    if local and boto:
        for method in ("GET", "POST"):
            added = local[f"{method}_1t"]["p50_ms"] - boto[f"{method}_1t"]["p50_ms"]
            checks.append(
                (f"{method} added p50 over direct boto3 ≤ 2 ms (1 thread)", f"{added:+.2f} ms", added <= 2)
            )
    memory = results.get("replication_memory", {})
    if memory:
        pairs = [p for p in memory["replication_latency_reported"].get("pairs", []) if p.get("count")]
        if pairs:
            p50 = max(p["p50_ms"] for p in pairs)
            p99 = max(p["p99_ms"] for p in pairs)
            checks.append(
                ("replication lag p50 ≤ 100 ms (network none, worst pair)", f"{p50} ms", p50 <= 100)
            )
            checks.append(
                ("replication lag p99 ≤ 300 ms (network none, worst pair)", f"{p99} ms", p99 <= 300)
            )
        writes = memory.get("writes", {})
        hours = memory.get("idle_polls", {}).get("equivalent_idle_hours")
        for label, field in (
            (f"after {writes.get('count', 0):,} writes", "rss_after_writes_mb"),
            (f"after {hours} h worth of idle stream polls", "rss_after_idle_polls_mb"),
        ):
            value = memory.get(field)
            if value is not None:
                checks.append((f"stack RSS ≤ 300 MB {label}", f"{value} MB", value <= 300))
    startup = results.get("startup", {})
    if startup:
        value = startup["two_region_cloud_s"]
        checks.append(("two-region cloud ready ≤ 5 s", f"{value} s", value <= 5))
    return checks


def markdown(results: dict) -> str:
    lines = [
        f"# Local cloud benchmarks ({results['when']}, {'quick' if results['quick'] else 'full'} run)",
        "",
    ]
    lines.append(
        f"Machine: {os.cpu_count()} cores, load average at start {results['load_average']}. "
        "Absolute figures are noisy; ratios are measured in the same run, interleaved."
    )
    lines.append("")
    path = results.get("request_path")
    if path:
        lines += [
            "## One region, network none (median of interleaved rounds)",
            "",
            "| system | case | p50 ms | p99 ms | req/s | errors |",
            "|---|---|---|---|---|---|",
        ]
        for name in ("local_gateway", "direct_boto3", "serverless_offline"):
            for case, figures in (path.get(name) or {}).items():
                lines.append(
                    f"| {name} | {case} | {figures['p50_ms']} | {figures['p99_ms']} | "
                    f"{figures['throughput_rps']} | {figures['errors']} |"
                )
        lines.append("")
    memory = results.get("replication_memory")
    if memory:
        lines += ["## Two regions, network none: replication and memory", ""]
        pairs = [p for p in memory["replication_latency_reported"].get("pairs", []) if p.get("count")]
        for pair in pairs:
            lines.append(
                f"- ReplicationLatency {pair['source']} → {pair['destination']} (replicator, {pair['count']} writes, "
                f"one at a time): p50 {pair['p50_ms']} ms, p99 {pair['p99_ms']} ms"
            )
        client = memory["lag_client_view"]
        lines.append(
            f"- As a client sees it (write, then poll the other region's table): p50 {client['p50_ms']} ms, "
            f"p99 {client['p99_ms']} ms over {client['writes']} writes"
        )
        writes = memory.get("writes")
        if writes:
            lines.append(
                f"- {writes['count']:,} writes ({writes['errors']} errors) on {writes['keys']:,} keys in "
                f"{writes['bursts']} bursts of {writes['burst_size']:,}: written at {writes['write_rps']} req/s, "
                f"replicated end to end at {writes['replicated_rps']} req/s, largest backlog seen "
                f"{writes['backlog_peak_seen']:,}"
            )
        lines.append(
            f"- Stack RSS: idle {memory['rss_idle_mb']} MB, peak during writes {memory.get('rss_peak_writes_mb')} MB, "
            f"after the writes {memory.get('rss_after_writes_mb')} MB, after the idle polls "
            f"{memory.get('rss_after_idle_polls_mb')} MB; per process after the writes: "
            + ", ".join(f"{name} {mb} MB" for name, mb in memory.get("rss_per_process_mb", {}).items())
        )
        polls = memory.get("idle_polls")
        if polls:
            lines.append(
                f"- Idle polls: {polls['per_region']} in {polls['seconds']} s = "
                f"{polls['equivalent_idle_hours']} h of the replicator idling"
            )
        lines.append("")
    lines += ["## Verdicts", "", "| target | measured | met |", "|---|---|---|"]
    for label, value, met in verdicts(results):
        lines.append(f"| {label} | {value} | {'yes' if met else ('n/a' if met is None else 'NO')} |")
    lines += ["", "## Everything", "", "```json", json.dumps(results, indent=2), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.local_cloud", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (smaller counts, one round)")
    parser.add_argument("--only", choices=("path", "startup", "replication"), help="run one section")
    parser.add_argument(
        "--writes", type=int, help="writes for the memory figure (default 100,000; quick 4,000)"
    )
    parser.add_argument(
        "--burst", type=int, default=4000, help="writes per burst before replication catches up"
    )
    parser.add_argument(
        "--idle-polls", type=int, help="stream polls a region (default 144,000: an hour idle)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        rounds, n1, n8, startup_repeat, lag_writes, total_writes, idle_polls = 1, 100, 50, 1, 30, 4_000, 2_000
    else:
        rounds, n1, n8, startup_repeat, lag_writes, total_writes, idle_polls = (
            3,
            400,
            150,
            3,
            200,
            100_000,
            144_000,
        )
    total_writes = args.writes or total_writes
    idle_polls = args.idle_polls or idle_polls
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "load_average": os.getloadavg()[0],
    }
    suffix = ("-quick" if args.quick else "") + (f"-{args.only}" if args.only else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    partial = RESULTS / f"local_cloud{suffix}.partial.json"  # after each section, so a long run loses nothing
    if args.only in (None, "path"):
        print("request path: one region, network none …", flush=True)
        results["request_path"] = bench_request_path(rounds, n1, n8)
        partial.write_text(json.dumps(results, indent=2))
    if args.only in (None, "startup"):
        print("startup …", flush=True)
        results["startup"] = bench_startup(startup_repeat)
        partial.write_text(json.dumps(results, indent=2))
    if args.only in (None, "replication"):
        print(
            f"replication lag and memory ({total_writes:,} writes, {idle_polls:,} idle polls a region) …",
            flush=True,
        )
        results["replication_memory"] = bench_replication_and_memory(
            lag_writes, total_writes, idle_polls, min(args.burst, total_writes)
        )
    report = markdown(results)
    (RESULTS / f"local_cloud{suffix}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"local_cloud{suffix}.md").write_text(report)
    partial.unlink(missing_ok=True)
    print(report)
    failed = [label for label, _, met in verdicts(results) if met is False]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Sections 3 and 4: replication lag and the stack's memory, on one two-region cloud with network none."""

from __future__ import annotations

import threading
import time

import requests

from backend.local.cloud import LocalCloud
from backend.local.memory import rss_bytes
from bench.local_cloud.load import EU, TABLE, US, http_workers, local_client, quantile, run_load, stack_rss

REPLICATOR_IDLE_POLLS_PER_S = (
    40  # the replicator polls an idle stream every 25 ms (replicator.DEFAULT_POLL_INTERVAL_MS)
)


def bench_replication_and_memory(
    lag_writes: int, total_writes: int, idle_polls: int, burst: int = 4000
) -> dict:
    """Sections 3 and 4 on one two-region cloud with network none."""
    results: dict = {}
    with LocalCloud(regions=[US, EU], network="none") as cloud:
        api = cloud.endpoints["regions"][US]
        eu_table = local_client(cloud, "dynamodb", EU)
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
        streams = local_client(cloud, "dynamodbstreams", region)
        table = local_client(cloud, "dynamodb", region)
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

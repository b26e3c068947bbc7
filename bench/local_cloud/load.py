"""Load generation shared by the local cloud's sections: quantiles, threaded load, and the workers of each system."""

from __future__ import annotations

import json
import statistics
import threading
import time

import requests

from backend.local.cloud import LocalCloud
from backend.local.contracts import TABLE_NAME
from backend.local.memory import rss_bytes

US, EU = "us-west-2", "eu-central-1"
TABLE = TABLE_NAME


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


def stack_rss(cloud: LocalCloud) -> int:
    return sum(rss_bytes(pid) for pid in cloud.pids.values())


def local_client(cloud: LocalCloud, service: str, region: str):
    """A boto3 client of a region's DynamoDB endpoint (``service``: dynamodb or dynamodbstreams)."""
    import boto3

    return boto3.client(
        service,
        region_name=region,
        endpoint_url=cloud.endpoints["dynamodb"][region],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )

"""Section 1, the request path: one region, network none; local gateway vs direct boto3 vs serverless-offline."""

from __future__ import annotations

import requests

from backend.local.cloud import LocalCloud
from bench.local_cloud.load import US, boto3_workers, http_workers, median_round, run_load, stack_rss
from bench.local_cloud.offline import ServerlessOffline


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

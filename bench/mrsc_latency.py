"""What strong consistency costs a write: the same writes through the API of one region of an MREC and an MRSC
local cloud (same regions, realistic network, a client inside that region), interleaved so that the machine's load
falls on both alike. The MRSC write waits for the nearest other region's accept, so its p50 should exceed MREC's
by the modelled round trip between the region and its nearest neighbour, within ±20% (issue "MRSC", Done when).

    python -m bench.mrsc_latency [--writes 400] [--region us-east-1] [--output FILE]

Strongly consistent reads are timed too (GetItem with ConsistentRead through boto3: the API's reads are timed by
the dashboard's probes), against eventually consistent ones. Exit status 1 if the write target is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import requests
from botocore.config import Config

from backend.local import network
from backend.local.cloud import LocalCloud
from backend.local.contracts import TABLE_NAME
from bench.run_context import results_dir

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]
TOLERANCE = 0.20


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _client(cloud, region: str):
    return boto3.client(
        "dynamodb", region_name=region, endpoint_url=cloud.endpoints["dynamodb"][region],
        aws_access_key_id="local", aws_secret_access_key="local", config=Config(retries={"total_max_attempts": 1}),
    )


def _one_round(timings: dict, mode: str, session, db, stage: str, number: int) -> None:
    """One write through the API, then a strong and an eventual read of the key with boto3, each timed."""
    key = f"bench-{number % 50}"
    started = time.perf_counter()
    session.post(f"{stage}/{key}", json={"value": str(number)}, timeout=30).raise_for_status()
    timings[f"{mode}_write"].append((time.perf_counter() - started) * 1000.0)
    for kind, consistent in (("strong_read", True), ("read", False)):
        started = time.perf_counter()
        db.get_item(TableName=TABLE_NAME, Key={"key": {"S": key}}, ConsistentRead=consistent)
        timings[f"{mode}_{kind}"].append((time.perf_counter() - started) * 1000.0)


def measure(writes: int, region: str) -> dict:
    clouds = {
        mode: LocalCloud(regions=REGIONS, network="realistic", client_location=region, consistency=mode)
        for mode in ("eventual", "strong")
    }
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(LocalCloud.start, clouds.values()))
    try:
        sessions = {mode: requests.Session() for mode in clouds}
        dbs = {mode: _client(cloud, region) for mode, cloud in clouds.items()}
        timings = {f"{mode}_{kind}": [] for mode in clouds for kind in ("write", "strong_read", "read")}
        for number in range(writes):
            for mode, cloud in clouds.items():
                _one_round(timings, mode, sessions[mode], dbs[mode], cloud.endpoints["regions"][region], number)
    finally:
        for cloud in clouds.values():
            cloud.stop()
    nearest = min((r for r in REGIONS if r != region), key=lambda other: network.region_rtt_ms(region, other))
    modelled = network.region_rtt_ms(region, nearest)
    figures = {name: {"p50_ms": _p(v, 0.5), "p99_ms": _p(v, 0.99), "n": len(v)} for name, v in timings.items()}
    extra = figures["strong_write"]["p50_ms"] - figures["eventual_write"]["p50_ms"]
    return {
        "region": region,
        "nearest_other_region": nearest,
        "modelled_rtt_ms": modelled,
        "write_p50_extra_ms": extra,
        "write_extra_over_rtt": extra / modelled,
        "strong_read_p50_extra_ms": figures["strong_strong_read"]["p50_ms"] - figures["eventual_read"]["p50_ms"],
        "target": f"MRSC write p50 - MREC write p50 within ±{TOLERANCE:.0%} of the modelled RTT {region}↔{nearest}",
        "met": abs(extra - modelled) <= TOLERANCE * modelled,
        "figures": figures,
        "mean_write_ms": {mode: statistics.fmean(timings[f"{mode}_write"]) for mode in clouds},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mrsc_latency", description=__doc__.split("\n")[0])
    parser.add_argument("--writes", type=int, default=400)
    parser.add_argument("--region", default="us-east-1", choices=REGIONS)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    result = measure(args.writes, args.region)
    output = args.output or results_dir(published=False) / "mrsc_latency.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    eventual, strong = result["figures"]["eventual_write"], result["figures"]["strong_write"]
    print(
        f"{args.region} writes through the API, p50: MREC {eventual['p50_ms']:.1f} ms, MRSC {strong['p50_ms']:.1f} ms: "
        f"+{result['write_p50_extra_ms']:.1f} ms = {result['write_extra_over_rtt']:.2f}x the modelled "
        f"{args.region}↔{result['nearest_other_region']} round trip ({result['modelled_rtt_ms']:.1f} ms); "
        f"strong reads +{result['strong_read_p50_extra_ms']:.1f} ms; target {'met' if result['met'] else 'MISSED'}"
        f" ({output})"
    )
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""The measurement engine's own cost: ``python -m bench.engine_overhead [--requests 2000] [--count 1000]``.

Runs the local cloud with network ``none`` (3 regions) and measures, in the same run:

1. **Overhead of a measurement** -- one keep-alive connection, GETs of one key in us-west-2:
   the engine's ``network_ms`` (client-measured latency minus the function time from ``Server-Timing``) at p50,
   against a baseline of bare ``http.client`` requests timed with ``perf_counter`` and nothing else, whose
   latency minus the same header's ``app`` time is computed *after* the clock stops. Target (issue 4): the
   engine's p50 <= 1 ms. The ratio engine / bare shows what the engine adds on top of HTTP itself.
2. **A 3-target x 1,000-request run at concurrency 16** (``run_latency``, reads) -- its wall time and rate,
   against bare ``http.client`` workers sending the same 3,000 requests with 16 threads.

The machine is shared and noisy: each figure is the median of ``--repeats`` interleaved runs, and the ratios
against the same-run baselines are the figures to compare across machines. Results are printed and written to
``.local/bench/engine_overhead.json`` (``bench/results/`` by ``make bench``'s full run).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.run_context import SCRATCH, run_context

REGIONS = ["us-west-2", "eu-central-1", "ap-northeast-1"]
TARGET_OVERHEAD_P50_MS = 1.0


def _bare_get_loop(url: str, key: str, n: int) -> list[tuple[float, float]]:
    """(latency ms, app ms) of n GETs on one keep-alive connection, timed with nothing else around them."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    path = parts.path.rstrip("/") + "/" + key
    out = []
    try:
        for _ in range(n):
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            ended = time.perf_counter()
            out.append(((ended - started) * 1000.0, response.getheader("Server-Timing")))
    finally:
        conn.close()
    from dashboard.measure.timed_client import parse_server_timing

    return [(latency, parse_server_timing(header).get("app", float("nan"))) for latency, header in out]


def _bare_parallel(urls: list[str], key: str, count: int, threads: int) -> float:
    """Wall time (s) of count GETs per URL from ``threads`` bare workers (one connection per worker and URL)."""
    jobs = [url for _ in range(count) for url in urls]
    lock = threading.Lock()
    position = iter(range(len(jobs)))

    def worker():
        conns = {}
        try:
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    return
                url = jobs[index]
                conn = conns.get(url)
                if conn is None:
                    parts = urlsplit(url)
                    conn = conns[url] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                conn.request("GET", urlsplit(url).path.rstrip("/") + "/" + key)
                conn.getresponse().read()
        finally:
            for conn in conns.values():
                conn.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_overhead")
    parser.add_argument("--requests", type=int, default=2000, help="GETs per overhead run (default 2000)")
    parser.add_argument("--count", type=int, default=1000, help="requests per target in the parallel run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(SCRATCH / "engine_overhead.json"))
    args = parser.parse_args(argv)
    context = run_context()

    from backend.local.cloud import LocalCloud
    from dashboard.measure import stats
    from dashboard.measure.probes.latency import run_latency
    from dashboard.measure.targets import from_mapping
    from dashboard.measure.timed_client import TimedClient

    with LocalCloud(regions=REGIONS, network="none") as cloud:
        targets = from_mapping(cloud.endpoints, "local cloud (network none)")
        url = targets.url("us-west-2")
        key = "bench-engine-overhead"
        for region in REGIONS:
            with TimedClient(region, targets.url(region)) as client:
                client.write(key, "v" * 16)
        _bare_get_loop(url, key, 200)  # warm both paths before measuring
        run_latency(targets, ["us-west-2"], "read", count=200, concurrency=1)

        engine_p50, bare_p50, engine_total, bare_total = [], [], [], []
        engine_wall, bare_wall = [], []
        for _ in range(args.repeats):
            bare = _bare_get_loop(url, key, args.requests)
            bare_p50.append(statistics.median(latency - app for latency, app in bare))
            bare_total.append(statistics.median(latency for latency, _ in bare))
            df = run_latency(targets, ["us-west-2"], "read", count=args.requests, concurrency=1)
            warm = df[~df["new_connection"] & df["ok"]]
            engine_p50.append(float(warm["network_ms"].median()))
            engine_total.append(float(warm["latency_ms"].median()))

            bare_wall.append(
                _bare_parallel([targets.url(r) for r in REGIONS], key, args.count, args.concurrency)
            )
            started = time.perf_counter()
            run = run_latency(targets, REGIONS, "read", count=args.count, concurrency=args.concurrency)
            engine_wall.append(time.perf_counter() - started)
            errors = int((~run["ok"]).sum())
        summary = stats.summarize(run, warm_only=True)

    results = {
        "run": context,
        "network": "none",
        "overhead_requests": args.requests,
        "engine_network_p50_ms": statistics.median(engine_p50),
        "bare_network_p50_ms": statistics.median(bare_p50),
        "engine_latency_p50_ms": statistics.median(engine_total),
        "bare_latency_p50_ms": statistics.median(bare_total),
        "overhead_target_ms": TARGET_OVERHEAD_P50_MS,
        "overhead_ok": statistics.median(engine_p50) <= TARGET_OVERHEAD_P50_MS,
        "parallel_run": f"{len(REGIONS)} targets x {args.count} requests, concurrency {args.concurrency}",
        "engine_wall_s": statistics.median(engine_wall),
        "bare_wall_s": statistics.median(bare_wall),
        "engine_rate_per_s": len(REGIONS) * args.count / statistics.median(engine_wall),
        "wall_ratio_engine_over_bare": statistics.median(engine_wall) / statistics.median(bare_wall),
        "last_run_errors": errors,
        "last_run_p50_ms": {t: round(v, 2) for t, v in summary["p50"].items()},
        "repeats": args.repeats,
        "runs": {
            "engine_network_p50_ms": engine_p50,
            "bare_network_p50_ms": bare_p50,
            "engine_wall_s": engine_wall,
            "bare_wall_s": bare_wall,
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"measurement overhead, network none, 1 connection, {args.requests} GETs (median of {args.repeats}):"
    )
    print(
        f"  engine: latency - app p50 {results['engine_network_p50_ms']:.3f} ms "
        f"(target <= {TARGET_OVERHEAD_P50_MS} ms: {'ok' if results['overhead_ok'] else 'MISSED'}); "
        f"bare http.client: {results['bare_network_p50_ms']:.3f} ms"
    )
    print(
        f"  latency p50: engine {results['engine_latency_p50_ms']:.3f} ms, bare {results['bare_latency_p50_ms']:.3f} ms"
    )
    print(
        f"{results['parallel_run']}: engine {results['engine_wall_s']:.2f} s "
        f"({results['engine_rate_per_s']:.0f} req/s), bare {results['bare_wall_s']:.2f} s, "
        f"ratio {results['wall_ratio_engine_over_bare']:.2f}; errors in the last run: {errors}"
    )
    print(f"written to {out}")
    return 0 if results["overhead_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench.local_cloud [--quick] [--only SECTION]``: runs the sections, writes and prints the report."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import bench.local_cloud
from bench.local_cloud.path import bench_request_path
from bench.local_cloud.replication import bench_replication_and_memory
from bench.local_cloud.report import markdown, verdicts
from bench.local_cloud.startup import bench_startup

RESULTS = Path(__file__).resolve().parents[1] / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.local_cloud", description=bench.local_cloud.__doc__.split("\n")[0]
    )
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

"""``python -m bench.local_cloud [--quick] [--only SECTION]``: runs the sections, writes and prints the report."""

from __future__ import annotations

import argparse
import json

import bench.local_cloud
from bench.local_cloud.ceiling import bench_ceiling
from bench.local_cloud.path import bench_request_path
from bench.local_cloud.replication import bench_replication_and_memory
from bench.local_cloud.report import markdown, verdicts
from bench.local_cloud.startup import bench_startup
from bench.local_cloud.sustained import bench_sustained
from bench.run_context import results_dir, run_context

# rounds, requests a thread (1 and 8 threads), startup repeats, lag writes, writes for the memory figure, idle polls,
# seconds of each wrk run and of each in-process moto loop (the ceiling)
QUICK = {"rounds": 1, "n1": 100, "n8": 50, "startup": 1, "lag": 30, "writes": 4_000, "polls": 2_000}
QUICK |= {"wrk_s": 3, "moto_s": 1.5, "ceiling_rounds": 1, "sustained": 4_000}
FULL = {"rounds": 10, "n1": 120, "n8": 45, "startup": 3, "lag": 200, "writes": 100_000, "polls": 144_000}
# The ceiling: more, shorter rounds, so drift in the machine's speed falls between rounds rather than inside one.
FULL |= {"wrk_s": 6, "moto_s": 3.0, "ceiling_rounds": 5, "sustained": 100_000}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.local_cloud", description=bench.local_cloud.__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run (smaller counts, one round)")
    parser.add_argument(
        "--only", choices=("path", "startup", "replication", "ceiling", "sustained"), help="run one section"
    )
    parser.add_argument(
        "--writes", type=int, help="writes for the memory figure (default 100,000; quick 4,000)"
    )
    parser.add_argument(
        "--burst", type=int, default=4000, help="writes per burst before replication catches up"
    )
    parser.add_argument(
        "--idle-polls", type=int, help="stream polls a region (default 144,000: an hour idle)"
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="write into bench/results/ (make bench's full run; refused with --quick or --only); "
        "otherwise results go under .local/bench/",
    )
    args = parser.parse_args(argv)
    if args.publish and (args.quick or args.only):
        parser.error("--publish is for the full run only: --quick and --only write under .local/bench/")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    counts = dict(QUICK if args.quick else FULL)
    counts["writes"] = args.writes or counts["writes"]
    counts["polls"] = args.idle_polls or counts["polls"]
    results = {"run": run_context(), "quick": args.quick, "only": args.only}
    sections = {
        "path": (
            "request_path",
            "request path: one region, network none …",
            lambda: bench_request_path(counts["rounds"], counts["n1"], counts["n8"]),
        ),
        "startup": ("startup", "startup …", lambda: bench_startup(counts["startup"])),
        "replication": (
            "replication_memory",
            f"replication lag and memory ({counts['writes']:,} writes, {counts['polls']:,} idle polls a region) …",
            lambda: bench_replication_and_memory(
                counts["lag"], counts["writes"], counts["polls"], min(args.burst, counts["writes"])
            ),
        ),
        "ceiling": (
            "ceiling",
            "ceiling: one region under wrk vs in-process moto …",
            lambda: bench_ceiling(counts["ceiling_rounds"], counts["wrk_s"], counts["moto_s"]),
        ),
        "sustained": (
            "sustained",
            f"replication under sustained load ({counts['sustained']:,} writes under wrk) …",
            lambda: bench_sustained(counts["sustained"]),
        ),
    }
    folder = results_dir(published=args.publish)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ("-quick" if args.quick else "") + (f"-{args.only}" if args.only else "")
    partial = folder / f"local_cloud{suffix}.partial.json"  # after each section, so a long run loses nothing
    for name, (field, announce, run) in sections.items():
        if args.only in (None, name):
            print(announce, flush=True)
            results[field] = run()
            partial.write_text(json.dumps(results, indent=2))
    report = markdown(results)
    (folder / f"local_cloud{suffix}.json").write_text(json.dumps(results, indent=2) + "\n")
    (folder / f"local_cloud{suffix}.md").write_text(report)
    partial.unlink(missing_ok=True)
    print(report)
    print(f"written to {folder / f'local_cloud{suffix}.md'} and .json")
    failed = [label for label, _, met in verdicts(results) if met is False]
    return 1 if failed else 0

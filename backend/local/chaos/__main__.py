"""The command line of a fault run: ``python -m backend.local.chaos --minutes 10 --report docs/RELIABILITY.md``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import backend.local.chaos as package
from backend.local.chaos.report import passed, render, rerender
from backend.local.chaos.runner import DEFAULT_REGIONS, STRONG_REGIONS, ChaosRun


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backend.local.chaos", description=package.__doc__.split("\n")[0]
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="workload duration in minutes")
    length.add_argument("--seconds", type=float, help="workload duration in seconds (default 25)")
    parser.add_argument("--report", help="write the Markdown report here (e.g. docs/RELIABILITY.md)")
    parser.add_argument("--history", help="write the history here (JSONL)")
    parser.add_argument("--json", help="write the checker's report here (JSON)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--regions", help=f"default {','.join(DEFAULT_REGIONS)}; with --consistency strong {','.join(STRONG_REGIONS)}"
    )
    parser.add_argument(
        "--consistency", default="eventual", choices=("eventual", "strong"),
        help="the global table's mode: eventual (MREC) or strong (MRSC: also strongly consistent reads, and the "
        "region-isolate fault)",
    )  # fmt: skip
    parser.add_argument("--witness", help="MRSC with two replica regions (--regions) and this witness region")
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
    return parser


def _run(args, parser: argparse.ArgumentParser) -> ChaosRun:
    """The run the arguments describe (shorter faults and gaps for a short run), or a usage error."""
    seconds = args.minutes * 60 if args.minutes is not None else (args.seconds or 25.0)
    if seconds <= 0 or args.clients < 1:
        parser.error("the duration and --clients must be positive")
    short = seconds < 120
    strong = args.consistency == "strong"
    default = (STRONG_REGIONS[:2] if args.witness else STRONG_REGIONS) if strong else DEFAULT_REGIONS
    try:
        from backend.local.cloud import check_consistency, check_regions

        regions = check_regions(args.regions or ",".join(default))
        check_consistency(regions, args.consistency, args.witness)
    except ValueError as error:
        parser.error(str(error))
    if len(regions) < 2:
        parser.error("a fault run needs at least 2 regions")
    return ChaosRun(
        seconds, regions=regions, clients=args.clients, seed=args.seed,
        fault_s=args.fault_seconds or (2.5 if short else 6.0), gap_s=args.gap_seconds or (1.5 if short else 4.0),
        network=args.network, history_path=args.history, think_ms=args.think_ms,
        keys_per_client=args.keys_per_client, quiescence_timeout_s=args.quiescence_timeout,
        consistency=args.consistency, witness=args.witness,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    command_line = parser()
    args = command_line.parse_args(argv)
    if args.from_json:
        return rerender(args.from_json, args.report)
    report = _run(args, command_line).run()
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

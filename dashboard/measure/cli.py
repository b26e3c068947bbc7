"""``python -m dashboard.measure``: the measurement engine on the command line.

    python -m dashboard.measure latency  [--only us-west-2,global] [--operation read|write|mix] [--count 100]
                                       [--concurrency 4] [--rate R] [--client-location Seattle] [--warm-only]
    python -m dashboard.measure lag      --source us-west-2 [--destinations eu-central-1] [--probes 10] [--timeout 10]
    python -m dashboard.measure conflict [--regions us-west-2,eu-central-1] [--trials 20]
    python -m dashboard.measure failover [--region us-west-2] [--duration 30] [--rate 10] [--down-at 5] [--up-at 17]
                                       [--observe]

Where to send requests (any subcommand; one of):
``--endpoints-file PATH`` (default ``.local/endpoints.json``, written by ``python -m backend.local up``),
``--targets FILE`` (JSON or TOML, see ``dashboard.measure.targets``), or ``--stack NAME --regions a,b`` (CloudFormation
outputs; AWS credentials from the usual chain, ``--profile`` to pick one).

Output: a progress bar on a terminal (plain progress lines on stderr otherwise), a summary table on stdout, and with
``--csv PATH`` / ``--json PATH`` the raw samples. Exit status: 0 when the probe ran, 1 when it could not run (bad
source, unreachable targets, bad parameters, or not one successful request), with a one-line reason and no
traceback; 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import UTC, datetime

import pandas as pd

from backend.local.contracts import TABLE_NAME
from dashboard.measure import samples, stats
from dashboard.measure.errors import ProbeError
from dashboard.measure.targets import GLOBAL, TargetError, check_reachable, load_targets


class ProgressPrinter:
    """A one-line bar on a terminal; otherwise a plain line at most every ``interval_s`` seconds."""

    def __init__(self, stream=None, interval_s: float = 1.0, width: int = 30):
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval_s = interval_s
        self.width = width
        self._last = -math.inf
        self._open_line = False

    def __call__(self, done: int, total: int, message: str) -> None:
        if self.tty:
            filled = int(self.width * done / total) if total else self.width
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} {message[:60]:<60}")
            self._open_line = True
            if done >= total:
                self.finish()
        else:
            now = time.monotonic()
            if now - self._last >= self.interval_s or done >= total:
                self._last = now
                self.stream.write(f"progress {done}/{total} {message}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self._open_line = False


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1 like every other "could not run" case (argparse's default is 2)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def _csv_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False, allow_abbrev=False)
    source = common.add_argument_group("targets")
    source.add_argument("--endpoints-file", help="local cloud endpoints file (default .local/endpoints.json)")
    source.add_argument("--targets", metavar="FILE", help="targets file, JSON or TOML")
    source.add_argument("--stack", help="CloudFormation stack name (with --regions)")
    source.add_argument(
        "--regions", help="comma-separated regions (of the stack; for conflict: the racing regions)"
    )
    source.add_argument("--profile", help="AWS profile for --stack and CloudWatch")
    output = common.add_argument_group("output")
    output.add_argument("--csv", metavar="PATH", help="write the raw samples as CSV")
    output.add_argument("--json", metavar="PATH", help="write the raw samples as JSON")
    output.add_argument(
        "--request-timeout", type=float, default=10.0, help="seconds per request (default 10)"
    )

    parser = _Parser(
        prog="python -m dashboard.measure",
        description="Measure latency, replication lag, conflicts and failover of the multi-region key-value API.",
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="latency|lag|conflict|failover", parser_class=_Parser
    )

    latency = commands.add_parser("latency", parents=[common], help="N requests against several targets")
    latency.add_argument(
        "--only", help="targets to measure, comma-separated (default: every region and global)"
    )
    latency.add_argument("--operation", choices=["read", "write", "mix"], default="read")
    latency.add_argument("--count", type=int, default=100, help="requests per target (default 100)")
    latency.add_argument("--concurrency", type=int, default=4)
    latency.add_argument(
        "--rate", type=float, help="requests per second, all targets together (default: no limit)"
    )
    latency.add_argument(
        "--client-location", help="city or lat,lon for the physical floor (local: the cloud's)"
    )
    latency.add_argument(
        "--warm-only", action="store_true", help="leave out requests that opened a connection"
    )

    lag = commands.add_parser("lag", parents=[common], help="replication lag from one region to the others")
    lag.add_argument("--source", help="region to write in (default: the first region)")
    lag.add_argument("--destinations", help="regions to poll, comma-separated (default: every other region)")
    lag.add_argument("--probes", type=int, default=10)
    lag.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for each value (default 10)"
    )
    lag.add_argument("--table", default=TABLE_NAME, help=f"table name for CloudWatch (default {TABLE_NAME})")

    conflict = commands.add_parser(
        "conflict", parents=[common], help="concurrent writes to one key in regions"
    )
    conflict.add_argument("--trials", type=int, default=20)
    conflict.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for agreement per trial"
    )

    failover = commands.add_parser(
        "failover", parents=[common], help="reads through the global endpoint during an outage"
    )
    failover.add_argument("--region", help="region to take down (default: the one serving the client)")
    failover.add_argument("--duration", type=float, default=30.0, help="seconds (default 30)")
    failover.add_argument("--rate", type=float, default=10.0, help="requests per second (default 10)")
    failover.add_argument("--down-at", type=float, default=5.0, help="seconds into the run (default 5)")
    failover.add_argument("--up-at", type=float, help="seconds into the run (default: half-way after down)")
    failover.add_argument(
        "--observe", action="store_true", help="don't act: you cause the outage, the probe watches"
    )
    return parser


def _session(profile):
    if not profile:
        return None
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.Session(profile_name=profile)
    except BotoCoreError as error:
        raise TargetError(f"--profile {profile}: {error}") from None


def _control(target_set):
    """The local cloud's control client, or None on AWS (no control URL)."""
    if not target_set.control_url:
        return None
    from backend.local.control import ControlClient

    return ControlClient(target_set.control_url)


def _write_outputs(df: pd.DataFrame, args) -> None:
    if args.csv:
        samples.to_csv(df, args.csv)
        print(f"raw samples: {args.csv}", file=sys.stderr)
    if args.json:
        samples.to_json(df, args.json)
        print(f"raw samples: {args.json}", file=sys.stderr)


def _table(df: pd.DataFrame) -> str:
    return df.to_string(float_format=lambda v: f"{v:,.1f}", na_rep="-")


def _client_location(args, control):
    if args.client_location:
        return args.client_location
    if control is not None:
        try:
            status = control.status()
        except Exception:  # the floor is optional: without the control API it is just not shown
            return None
        return status.get("client_location") if isinstance(status, dict) else None
    return None


def cmd_latency(args, target_set, progress) -> int:
    from dashboard.measure.probes.latency import floors, run_latency

    names = _csv_list(args.only) or target_set.names()
    target_set.require(names)
    check_reachable(target_set, timeout_s=min(args.request_timeout, 5.0), names=names)
    df = run_latency(
        target_set,
        names,
        args.operation,
        args.count,
        args.concurrency,
        args.rate,
        progress,
        timeout_s=args.request_timeout,
    )
    progress.finish()
    summary = stats.summarize(df, warm_only=args.warm_only)
    location = _client_location(args, _control(target_set))
    if location:
        summary["floor"] = pd.Series(floors(target_set, names, location))
    title = f"latency ({args.operation}, {'warm requests' if args.warm_only else 'all requests'}, ms)"
    print(f"{title}{f', physical floor from {location}' if location else ''}")
    print(_table(summary))
    print("\nmedian split (warm requests, ms)")
    print(_table(stats.breakdown(df)))
    _write_outputs(df, args)
    return 0 if df["ok"].any() else _no_success(df)


def _no_success(df) -> int:
    errors = df.loc[~df["ok"], "error"].value_counts()
    reason = errors.index[0] if len(errors) else "no request was made"
    print(f"error: not one request succeeded ({reason})", file=sys.stderr)
    return 1


def cmd_lag(args, target_set, progress) -> int:
    from dashboard.measure.probes.lag import run_lag
    from dashboard.measure.probes.lag_math import lag_summary
    from dashboard.measure.probes.lag_reference import reference_lag

    source = args.source or next(iter(target_set.regions))
    destinations = _csv_list(args.destinations) or [r for r in target_set.regions if r != source]
    check_reachable(target_set, timeout_s=min(args.request_timeout, 5.0), names=[source, *destinations])
    started = datetime.now(UTC)
    df = run_lag(
        target_set,
        source,
        destinations,
        args.probes,
        args.timeout,
        progress,
        request_timeout_s=args.request_timeout,
    )
    progress.finish()
    print(f"replication lag from {source} (ms; resolution = poll spacing around first sight)")
    print(_table(lag_summary(df)))
    control = _control(target_set)
    if control is not None:
        time.sleep(
            0.5
        )  # the replicator stamps each apply just after the value became visible: let the last land
    try:
        reference = reference_lag(
            target_set,
            source,
            destinations,
            started,
            datetime.now(UTC),
            control=control,
            table_name=args.table,
            session=_session(args.profile),
        )
    except Exception as error:  # the reference is a bonus: its absence is reported, never a traceback
        print(f"\n(no reference figures: {getattr(error, 'message', None) or error})")
    else:
        if reference is not None and len(reference):
            print("\nthe system's own ReplicationLatency for the same window (ms)")
            print(_table(reference))
    _write_outputs(df, args)
    return 0 if (df["status"] != "write_failed").any() else _lag_failed(df)


def _lag_failed(df) -> int:
    print(
        f"error: no write succeeded ({df['error'].iloc[0] if len(df) else 'no probe ran'})", file=sys.stderr
    )
    return 1


def cmd_conflict(args, target_set, progress) -> int:
    from dashboard.measure.probes.conflict import run_conflict

    regions = _csv_list(args.regions) if args.stack is None else None
    regions = regions or list(target_set.regions)
    check_reachable(target_set, timeout_s=min(args.request_timeout, 5.0), names=regions)
    results, timeline = run_conflict(
        target_set, regions, args.trials, args.timeout, progress, request_timeout_s=args.request_timeout
    )
    progress.finish()
    shown = results[
        [
            "trial",
            "winner_region",
            "expected_region",
            "follows_lww",
            "losers",
            "write_spread_ms",
            "converge_ms",
            "resolution_ms",
            "error",
        ]
    ]
    print(_table(shown.set_index("trial")))
    converged = int(results["converged"].sum())
    lww = int(results["follows_lww"].sum())
    print(
        f"\n{lww}/{len(results)} trials followed last-writer-wins; {converged}/{len(results)} converged; "
        f"converge p50 {stats.percentile(results['converge_ms'], 50):.1f} ms"
    )
    _write_outputs(results, args)
    return 0 if int(results["acked"].sum()) else _conflict_failed(results)


def _conflict_failed(results) -> int:
    print(
        f"error: no write was acknowledged ({results['error'].iloc[0] if len(results) else 'no trial ran'})",
        file=sys.stderr,
    )
    return 1


def cmd_failover(args, target_set, progress) -> int:
    from dashboard.measure.probes.failover import run_failover

    control = None if args.observe else _control(target_set)
    if control is None and not args.observe:
        print(
            "no control API (AWS or no local cloud control): observing only; cause the outage yourself",
            file=sys.stderr,
        )
    check_reachable(target_set, timeout_s=min(args.request_timeout, 5.0), names=[GLOBAL])
    timeline, summary = run_failover(
        target_set,
        args.region,
        control,
        args.duration,
        args.rate,
        args.down_at,
        args.up_at,
        progress,
        request_timeout_s=min(args.request_timeout, 2.0),
    )
    progress.finish()
    counts = (
        timeline.assign(result=timeline["ok"].map({True: "ok", False: "error"}))
        .groupby(["phase", "served_region", "result"], sort=False)
        .size()
        .unstack("result", fill_value=0)
    )
    print("requests through the global endpoint, by phase and the region that answered")
    print(_table(counts))
    print()
    for name, value in summary.items():
        print(f"{name:>22}: {_fmt(value)}")
    _write_outputs(timeline, args)
    return 0 if timeline["ok"].any() else _no_success(timeline)


def _fmt(value) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.3f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return "-" if value is None else str(value)


COMMANDS = {"latency": cmd_latency, "lag": cmd_lag, "conflict": cmd_conflict, "failover": cmd_failover}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    progress = ProgressPrinter()
    try:
        if args.stack and not args.regions:
            raise TargetError("--stack needs --regions (comma-separated, e.g. us-west-2,eu-central-1)")
        target_set = load_targets(
            endpoints_file=args.endpoints_file,
            targets_file=args.targets,
            stack=args.stack,
            regions=_csv_list(args.regions),
            session=_session(args.profile),
        )
        return COMMANDS[args.command](args, target_set, progress)
    except (TargetError, ProbeError, ValueError, OSError) as error:
        progress.finish()
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.finish()
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

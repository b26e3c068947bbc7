"""The measurement engine on the command line: ``mrkv-probe`` (the console script, ``main``), or
``python -m dashboard.measure``.

    mrkv-probe latency  [--only us-west-2,global] [--operation read|write|mix] [--count 100]
                        [--concurrency 4] [--rate R] [--client-location Seattle] [--warm-only]
    mrkv-probe lag      --source us-west-2 [--destinations eu-central-1] [--probes 10] [--timeout 10]
    mrkv-probe conflict [--regions us-west-2,eu-central-1] [--trials 20] [--land-together]
    mrkv-probe failover [--region us-west-2] [--duration 30] [--rate 10] [--down-at 5] [--up-at 17]
                        [--observe]
    mrkv-probe ping     --client-location Frankfurt [--regions us-east-1,eu-west-1] [--count 10]
                        [--url-template https://dynamodb.{region}.amazonaws.com/ping] [--output FILE]
    mrkv-probe consistency [--regions us-east-1,us-east-2,us-west-2] [--witness R] [--network none|realistic]
                        [--client-location Seattle] [--writes 12] [--trials 3] [--isolation-rounds 4]
                        [--isolate R] [--mrec-endpoints FILE --mrsc-endpoints FILE]
    mrkv-probe runs     list|show|compare|export|import|rename|delete  (dashboard.measure.runs.cli)

Every probe run is kept in the run store (``--store``, default ``.local/runs.sqlite``) with its context, named
with ``--name``; ``--no-store`` keeps nothing. Ctrl-C keeps the samples so far, as a stopped run.
``ping`` needs no targets: it times AWS's public endpoints from this machine (``dashboard.measure.ping``).
``consistency`` needs none either: it starts an MREC and an MRSC local cloud itself (or uses the two running ones
that ``--mrec-endpoints`` and ``--mrsc-endpoints`` name) and prints the per-region table of
``dashboard.measure.probes.consistency_figures``; ``--json`` alone prints the figures as JSON.

Where to send requests (any subcommand; one of):
``--endpoints-file PATH`` (default ``.local/endpoints.json``, written by ``python -m backend.local up``),
``--targets FILE`` (JSON or TOML, see ``dashboard.measure.targets``), or ``--stack NAME --regions a,b``
(CloudFormation outputs; AWS credentials from the usual chain, ``--profile`` to pick one).

Output: a progress bar on a terminal (plain progress lines on stderr otherwise), a summary table on stdout, and with
``--csv PATH`` / ``--json PATH`` the raw samples; ``--json`` alone prints JSON on stdout (the report moves to
stderr): for ``failover`` and ``conflict`` the run's figures, exactly as the dashboard shows them
(docs/MEASUREMENTS.md), for ``latency`` and ``lag`` the raw samples. Exit status: 0 when the probe ran, 1 when it could not run (bad
source, unreachable targets, bad parameters, or not one successful request), with a one-line reason and no
traceback; 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from backend.local.contracts import TABLE_NAME
from dashboard.measure.commands import COMMANDS, aws_session, csv_list
from dashboard.measure.errors import ProbeError
from dashboard.measure.runs import cli as runs_cli
from dashboard.measure.targets import TargetError, load_targets


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


def _program_name() -> str:
    """How the user started us, for the usage line: ``mrkv-probe`` or ``python -m dashboard.measure``."""
    name = Path(sys.argv[0]).name
    return "python -m dashboard.measure" if name == "__main__.py" else name


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
    output.add_argument(
        "--json",
        metavar="PATH",
        nargs="?",
        const="-",
        help="write the raw samples as JSON to PATH; alone: JSON on stdout (failover, conflict: the figures)",
    )
    output.add_argument("--name", help="name the run in the run store")
    output.add_argument("--store", help="run store (default .local/runs.sqlite or $MRKV_RUN_STORE)")
    output.add_argument("--no-store", action="store_true", help="keep no run in the run store")
    output.add_argument(
        "--request-timeout", type=float, default=10.0, help="seconds per request (default 10)"
    )

    parser = _Parser(
        prog=_program_name(),
        description="Measure latency, replication lag, conflicts and failover of the multi-region key-value API.",
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="latency|lag|conflict|failover|consistency|ping|runs",
        parser_class=_Parser,
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
    conflict.add_argument(
        "--land-together",
        action="store_true",
        help="time the writes to reach their regions together (a real race), not to leave together",
    )

    failover = commands.add_parser(
        "failover", parents=[common], help="reads through the global endpoint during an outage"
    )
    failover.add_argument("--region", help="region to take down (default: the one serving the client)")
    failover.add_argument("--duration", type=float, default=30.0, help="seconds (default 30)")
    failover.add_argument("--rate", type=float, default=10.0, help="requests per second (default 10)")
    failover.add_argument("--down-at", type=float, default=5.0, help="seconds into the run (default 5)")
    failover.add_argument("--up-at", type=float, help="seconds into the run (default: half-way after down)")
    for parser_ in (lag, conflict, failover):
        parser_.add_argument("--client-location", help="where you are (city or lat,lon), kept with the run")
    commands.add_parser("runs", help="the runs kept in the run store: mrkv-probe runs -h", add_help=False)
    failover.add_argument(
        "--observe", action="store_true", help="don't act: you cause the outage, the probe watches"
    )
    _ping_parser(commands)
    _consistency_parser(commands)
    return parser


def _consistency_parser(commands) -> None:
    from dashboard.measure.consistency_runs import SETTINGS

    parser = commands.add_parser(
        "consistency", help="the same workload on an MREC and an MRSC local cloud, side by side"
    )
    parser.add_argument("--regions", help="comma-separated (default: us-east-1,us-east-2,us-west-2)")
    parser.add_argument("--witness", help="MRSC with two regions and this witness region")
    parser.add_argument("--network", choices=["none", "realistic"], default="none", help="(default none)")
    parser.add_argument("--client-location", help="where the clouds' client is (city or lat,lon)")
    for option in ("writes", "trials", "isolation-rounds"):
        default = SETTINGS[option.replace("-", "_")]
        parser.add_argument(f"--{option}", type=int, default=default, help=f"(default {default})")
    parser.add_argument("--isolate", help="the region to cut off (default: the last one)")
    parser.add_argument("--mrec-endpoints", metavar="FILE", help="a running MREC cloud's endpoints file")
    parser.add_argument("--mrsc-endpoints", metavar="FILE", help="a running MRSC cloud's endpoints file")
    parser.add_argument(
        "--json", nargs="?", const="-", metavar="PATH", help="the figures as JSON (alone: stdout)"
    )
    parser.add_argument("--name", help="name the run in the run store")
    parser.add_argument("--store", help="run store (default .local/runs.sqlite or $MRKV_RUN_STORE)")
    parser.add_argument("--no-store", action="store_true", help="keep no run in the run store")


def _ping_parser(commands) -> None:
    ping = commands.add_parser(
        "ping", help="time HTTPS to each region's public DynamoDB endpoint from here (no AWS account)"
    )
    ping.add_argument(
        "--client-location",
        required=True,
        help="where this machine is: a city, region code or lat,lon (saved)",
    )
    ping.add_argument("--regions", help="comma-separated regions (default: every region the model knows)")
    ping.add_argument(
        "--count", type=int, default=10, help="new connections, then warm requests (default 10)"
    )
    ping.add_argument(
        "--url-template",
        help="URL per region, with {region} (default: $MRKV_PING_URL_TEMPLATE, else AWS's public DynamoDB endpoint)",
    )
    ping.add_argument("--timeout", type=float, default=3.0, help="seconds per step (default 3)")
    ping.add_argument("--concurrency", type=int, default=4, help="regions timed at once (default 4)")
    ping.add_argument("--cafile", help="CA certificates to trust (default: the system's)")
    ping.add_argument(
        "--output", metavar="FILE", help="where to save the run (default .local/ping/ping-<UTC time>.json)"
    )
    ping.add_argument("--name", help="name the run in the run store")
    ping.add_argument("--store", help="run store (default .local/runs.sqlite or $MRKV_RUN_STORE)")
    ping.add_argument("--no-store", action="store_true", help="keep no run in the run store")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["runs"]:
        return runs_cli.main(argv[1:], _program_name())
    args = _parser().parse_args(argv)
    progress = ProgressPrinter()
    recording = None
    try:
        if args.command == "ping":  # no targets: it times AWS's public endpoints
            from dashboard.measure.commands import ping_command

            return ping_command(args, progress)
        if args.command == "consistency":  # no targets: it starts (or is given) its two clouds
            from dashboard.measure.commands import consistency_command

            return consistency_command(args, progress)
        if args.stack and not args.regions:
            raise TargetError("--stack needs --regions (comma-separated, e.g. us-west-2,eu-central-1)")
        target_set = load_targets(
            endpoints_file=args.endpoints_file,
            targets_file=args.targets,
            stack=args.stack,
            regions=csv_list(args.regions),
            session=aws_session(args.profile),
        )
        with runs_cli.recording_for(args, target_set) as recording:
            args.recording = recording
            return COMMANDS[args.command](args, target_set, progress)
    except (TargetError, ProbeError, ValueError, OSError, runs_cli.StoreError) as error:
        progress.finish()
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.finish()
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        runs_cli.report_kept(recording)

"""``mrkv-probe runs list|show|compare|export|import|rename|delete`` (``--json`` on each), and the recording of
every probe run of ``mrkv-probe`` into the run store (``recording_for``).

    mrkv-probe runs list    [--kind K] [--status S] [--location CITY] [--environment E] [--limit N]
    mrkv-probe runs show    RUN
    mrkv-probe runs compare RUN RUN [RUN…] [--targets a,b]
    mrkv-probe runs export  RUN [-o FILE]  |  RUN [RUN…] --tables DIR [--format csv|parquet]
    mrkv-probe runs import  FILE [--name NAME]
    mrkv-probe runs rename  RUN NAME
    mrkv-probe runs delete  RUN

RUN is a run's name, its id or a unique prefix of the id. ``--store PATH`` (default ``.local/runs.sqlite``, or
``$MRKV_RUN_STORE``). Exit status 1 with a one-line reason for an unknown run, a bad file, a bad argument.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

import pandas as pd

from dashboard.measure.commands import csv_list
from dashboard.measure.runs import compare as comparing
from dashboard.measure.runs import context as contexts
from dashboard.measure.runs.recorder import KINDS, Recording
from dashboard.measure.runs.share import ShareError, export_run, export_tables, import_run
from dashboard.measure.runs.store import STATUSES, RunStore, StoreError

LIST_COLUMNS = [
    "id",
    "name",
    "kind",
    "status",
    "started_at",
    "samples",
    "client_location",
    "network",
    "environment",
]
# Arguments of a probe command that say where results go, not what was measured.
NOT_WORKLOAD = {
    "command",
    "csv",
    "json",
    "endpoints_file",
    "targets",
    "stack",
    "profile",
    "name",
    "store",
    "no_store",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def _parser(prog: str) -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--store", help="run store (default .local/runs.sqlite or $MRKV_RUN_STORE)")
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser = _Parser(prog=f"{prog} runs", description="The runs kept in the run store.")
    commands = parser.add_subparsers(dest="action", required=True, parser_class=_Parser)
    listing = commands.add_parser("list", parents=[common], help="runs, newest first")
    listing.add_argument("--kind", choices=KINDS)
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--location", help="client location (city)")
    listing.add_argument("--environment", choices=["local", "aws", "file"])
    listing.add_argument("--limit", type=int)
    commands.add_parser("show", parents=[common], help="one run with its context").add_argument("run")
    comparison = commands.add_parser("compare", parents=[common], help="runs side by side")
    comparison.add_argument("runs", nargs="+")
    comparison.add_argument("--targets", help="targets to compare, comma-separated (default: all shared)")
    export = commands.add_parser("export", parents=[common], help="one run as one file, or runs as tables")
    export.add_argument("run", nargs="+")
    export.add_argument("-o", "--output", help="file to write (default <name or id>.mrkv-run.zip)")
    export.add_argument(
        "--tables", metavar="DIR", help="tidy tables of the runs (one per kind) and a manifest"
    )
    export.add_argument(
        "--format", choices=["csv", "parquet"], default="csv", help="of --tables (default csv)"
    )
    importing = commands.add_parser("import", parents=[common], help="a run exported elsewhere")
    importing.add_argument("file")
    importing.add_argument("--name", help="name it here")
    rename = commands.add_parser("rename", parents=[common], help="name a run ('' to unname)")
    rename.add_argument("run")
    rename.add_argument("name")
    commands.add_parser("delete", parents=[common], help="remove a run and its samples").add_argument("run")
    return parser


def _print(args, payload, text: str) -> None:
    print(json.dumps(payload, indent=1, default=str, ensure_ascii=False) if args.json else text)


def _brief(run: dict) -> dict:
    return {key: run.get(key) for key in LIST_COLUMNS}


def _list(store, args):
    found = store.list(args.kind, args.status, args.location, args.environment, args.limit)
    table = pd.DataFrame([_brief(r) for r in found], columns=LIST_COLUMNS)
    _print(args, [_brief(r) for r in found], table.to_string(index=False) if len(table) else "no runs")


def _show(store, args):
    run = store.get(args.run)
    lines = [
        f"{key:>15}: {run[key]}" for key in LIST_COLUMNS + ["ended_at", "error"] if run.get(key) is not None
    ]
    lines += [
        "context:",
        *(f"{key:>15}: {json.dumps(value, default=str)}" for key, value in run["context"].items()),
    ]
    if run.get("summary"):
        lines.append(f"{'summary':>15}: {json.dumps(run['summary'], default=str)}")
    _print(args, run, "\n".join(lines))


def comparison_text(result: comparing.Comparison) -> str:
    lines = [f"WARNING: {note}" for note in result.warnings]
    lines += [f"{run['letter']} = {run['label']}" for run in result.runs]
    table = result.table.to_string(float_format=lambda v: f"{v:,.{comparing.DECIMALS}f}", na_rep="-")
    return "\n".join([*lines, "", table])


def _compare(store, args):
    targets = [t.strip() for t in (args.targets or "").split(",") if t.strip()] or None
    result = comparing.compare(store, args.runs, targets)
    _print(args, result.to_dict(), comparison_text(result))


def _export(store, args):
    if args.tables:
        folder = export_tables(store, args.run, args.tables, args.format)
        _print(args, {"folder": str(folder)}, f"tables of {len(args.run)} run(s) in {folder} (manifest.json)")
        return
    if len(args.run) > 1:
        raise ValueError("one run per file: give --tables DIR to export several runs as tables")
    path = export_run(store, args.run[0], args.output)
    _print(args, {"file": str(path)}, f"exported to {path}")


def _import(store, args):
    run = import_run(store, args.file, args.name)
    _print(args, _brief(run), f"imported run {run['id']} ({run['kind']}, {run['samples']} samples)")


def _rename(store, args):
    run = store.rename(args.run, args.name)
    _print(args, _brief(run), f"run {run['id']} is now named {run['name']!r}")


def _delete(store, args):
    run = store.delete(args.run)
    _print(args, _brief(run), f"deleted run {run['id']} ({run['kind']}, {run['samples']} samples)")


ACTIONS = {"list": _list, "show": _show, "compare": _compare, "export": _export, "import": _import,
           "rename": _rename, "delete": _delete}  # fmt: skip


def main(argv, prog: str = "mrkv-probe") -> int:
    args = _parser(prog).parse_args(argv)
    try:
        ACTIONS[args.action](RunStore(args.store), args)
    except (StoreError, ShareError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


# -- recording the runs of mrkv-probe's probe commands --------------------------------------------------------


def _planned_targets(args, target_set) -> list[str]:
    """The targets the command will measure, as its own defaults choose them."""
    if args.command == "latency":
        return csv_list(args.only) or target_set.names()
    if args.command == "lag":
        source = args.source or next(iter(target_set.regions), "")
        return [source, *(csv_list(args.destinations) or [r for r in target_set.regions if r != source])]
    if args.command == "conflict":
        return (csv_list(args.regions) if args.stack is None else []) or list(target_set.regions)
    return ["global"]


def _local_state(target_set) -> tuple[dict | None, str | None]:
    """The local cloud's client and network profile (None, None elsewhere or when the control API is silent)."""
    if not target_set.control_url:
        return None, None
    from backend.local.control import ControlClient

    try:
        status = ControlClient(target_set.control_url).status()
    except Exception:  # a silent control API must not stop a measurement: the context says "unknown"
        return None, None
    return status.get("client"), status.get("network")


def recording_for(args, target_set):
    """A ``Recording`` of this probe command into the run store, or a null context (``--no-store``, another
    command)."""
    if args.command not in KINDS or getattr(args, "no_store", False):
        return contextlib.nullcontext()
    client, profile = _local_state(target_set)
    workload = {
        k: v for k, v in vars(args).items() if k not in NOT_WORKLOAD and k not in ("regions", "recording")
    }
    context = contexts.build_context(
        target_set, workload, _planned_targets(args, target_set),
        client or getattr(args, "client_location", None), profile, created_by="cli",
    )  # fmt: skip
    return Recording(RunStore(args.store), args.command, context, name=args.name)


def report_kept(recording) -> None:
    if not isinstance(recording, Recording):
        return
    try:
        run = recording.store.get(recording.id)
    except StoreError as error:  # the store went away under the run: say so, never a traceback
        print(f"error: the run could not be kept: {error}", file=sys.stderr)
    else:
        print(
            f"run {run['id']} kept in {recording.store.path} ({run['status']}, {run['samples']} samples)",
            file=sys.stderr,
        )

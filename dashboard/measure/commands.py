"""The subcommands of ``python -m dashboard.measure`` (``cli``): each runs one probe, prints its summary and
returns the exit status (0: the probe ran; 1: not one successful request)."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from dashboard.measure import samples, stats
from dashboard.measure.errors import TargetError
from dashboard.measure.targets import GLOBAL, check_reachable


def csv_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def aws_session(profile):
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
    if args.json == "-" and kind_prints_samples(args):
        print(samples.to_json(df))
    elif args.json and args.json != "-":
        samples.to_json(df, args.json)
        print(f"raw samples: {args.json}", file=sys.stderr)


def kind_prints_samples(args) -> bool:
    """``--json`` alone prints the raw samples for latency and lag; failover and conflict print their figures."""
    return args.command in ("latency", "lag")


def _on_sample(args):
    """The run store's ``on_sample`` for this command (``cli`` puts its ``Recording`` on ``args``), or None."""
    recording = getattr(args, "recording", None)
    return recording.on_sample if recording is not None else None


def _keep(args, frames: dict, summary: dict | None = None) -> None:
    recording = getattr(args, "recording", None)
    if recording is not None:
        recording.complete(frames, summary)


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

    names = csv_list(args.only) or target_set.names()
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
        on_sample=_on_sample(args),
    )
    progress.finish()
    _keep(args, {"samples": df})
    summary = stats.summarize(df, warm_only=args.warm_only)
    location = _client_location(args, _control(target_set))
    if location:
        summary["floor"] = pd.Series(floors(target_set, names, location))
    title = f"latency ({args.operation}, {'warm requests' if args.warm_only else 'all requests'}, ms)"
    print(f"{title}{f', physical floor from {location}' if location else ''}", file=_report_stream(args))
    print(_table(summary), file=_report_stream(args))
    print("\nmedian split (warm requests, ms)", file=_report_stream(args))
    print(_table(stats.breakdown(df)), file=_report_stream(args))
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
    destinations = csv_list(args.destinations) or [r for r in target_set.regions if r != source]
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
        on_sample=_on_sample(args),
    )
    progress.finish()
    _keep(args, {"samples": df})
    out = _report_stream(args)
    print(f"replication lag from {source} (ms; resolution = poll spacing around first sight)", file=out)
    print(_table(lag_summary(df)), file=_report_stream(args))
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
            session=aws_session(args.profile),
        )
    except Exception as error:  # the reference is a bonus: its absence is reported, never a traceback
        print(
            f"\n(no reference figures: {getattr(error, 'message', None) or error})", file=_report_stream(args)
        )
    else:
        if reference is not None and len(reference):
            print("\nthe system's own ReplicationLatency for the same window (ms)", file=_report_stream(args))
            print(_table(reference), file=_report_stream(args))
    _write_outputs(df, args)
    return 0 if (df["status"] != "write_failed").any() else _lag_failed(df)


def _lag_failed(df) -> int:
    print(
        f"error: no write succeeded ({df['error'].iloc[0] if len(df) else 'no probe ran'})", file=sys.stderr
    )
    return 1


def _report_stream(args):
    """Where the human-readable report goes: stderr when ``--json`` alone puts the JSON document on stdout."""
    return sys.stderr if args.json == "-" else sys.stdout


def _print_document(args, kind: str, document: dict) -> None:
    """``--json`` alone: the run's figures as one JSON document on stdout (the same figures as the page)."""
    recording = getattr(args, "recording", None)
    payload = {"kind": kind, "run": getattr(recording, "id", None), **document}
    print(json.dumps(payload, indent=1, ensure_ascii=False, allow_nan=False))


def cmd_conflict(args, target_set, progress) -> int:
    from dashboard.measure.probes import conflict_figures
    from dashboard.measure.probes.conflict import run_conflict

    regions = csv_list(args.regions) if args.stack is None else None
    regions = regions or list(target_set.regions)
    check_reachable(target_set, timeout_s=min(args.request_timeout, 5.0), names=regions)
    results, timeline = run_conflict(
        target_set,
        regions,
        args.trials,
        args.timeout,
        progress,
        _on_sample(args),
        request_timeout_s=args.request_timeout,
        land_together=args.land_together,
    )
    progress.finish()
    figures = conflict_figures.run_figures(results)
    _keep(args, {"results": results, "timeline": timeline}, figures)
    out = _report_stream(args)
    print(conflict_figures.table(results).set_index("trial").to_string(na_rep="-"), file=out)
    print("\n" + conflict_figures.summary_line(figures), file=out)
    if args.json == "-":
        _print_document(args, "conflict", {"figures": figures, "trials": conflict_figures.trials(results)})
    _write_outputs(results, args)
    return 0 if int(results["acked"].sum()) else _conflict_failed(results)


def _conflict_failed(results) -> int:
    print(
        f"error: no write was acknowledged ({results['error'].iloc[0] if len(results) else 'no trial ran'})",
        file=sys.stderr,
    )
    return 1


def cmd_failover(args, target_set, progress) -> int:
    from dashboard.measure.probes import failover_figures
    from dashboard.measure.probes.failover import run_failover

    control = None if args.observe else _control(target_set)
    if control is None and not args.observe:
        print(
            "no control API (AWS or no local cloud control): observing only; cause the outage yourself",
            file=sys.stderr,
        )
    check_reachable(target_set, timeout_s=min(args.request_timeout, 5.0), names=[GLOBAL])
    timeline, figures = run_failover(
        target_set,
        args.region,
        control,
        args.duration,
        args.rate,
        args.down_at,
        args.up_at,
        progress,
        request_timeout_s=min(args.request_timeout, 2.0),
        on_sample=_on_sample(args),
    )
    progress.finish()
    _keep(args, {"samples": timeline}, figures)
    out = _report_stream(args)
    counts = (
        timeline.assign(result=timeline["served"].map({True: "served", False: "not served"}))
        .groupby(["phase", "served_region", "result"], sort=False)
        .size()
        .unstack("result", fill_value=0)
    )
    print("requests through the global endpoint, by phase and the region that answered", file=out)
    print(_table(counts), file=out)
    print(file=out)
    print(failover_figures.table(figures).to_string(index=False), file=out)
    print("\n" + failover_figures.sentence(figures), file=out)
    if args.json == "-":
        _print_document(args, "failover", {"figures": figures})
    _write_outputs(timeline, args)
    return 0 if timeline["ok"].any() else _no_success(timeline)


COMMANDS = {"latency": cmd_latency, "lag": cmd_lag, "conflict": cmd_conflict, "failover": cmd_failover}


def ping_command(args, progress) -> int:
    """``mrkv-probe ping``: the run's table on stdout, the file it was saved to. Errors (``ping.Unreachable`` among
    them) go to ``cli.main``'s handler: one line, status 1."""
    from backend.local import network
    from dashboard.measure import ping

    network.parse_location(args.client_location)
    regions = csv_list(args.regions) or sorted(network.REGIONS)
    for region in regions:
        network.region(region)
    document = ping.run(
        regions,
        args.client_location,
        template=ping.template_setting(args.url_template),
        count=args.count,
        timeout_s=args.timeout,
        cafile=args.cafile,
        concurrency=args.concurrency,
        progress=progress,
    )
    path = ping.save(document, args.output)
    progress.finish()
    print(ping.table(document))
    reached = sum(result["ok"] for result in document["regions"].values())
    print(f"\nsaved {path} ({reached}/{len(regions)} regions reached); calibrate the local cloud to it:")
    print(f"  mrkv-local up --client-location ping:{path}")
    if not args.no_store:
        from dashboard.measure import ping_runs
        from dashboard.measure.runs.store import RunStore

        store = RunStore(args.store)
        run_id = ping_runs.record(store, document, created_by="cli", name=args.name)
        print(
            f"run {run_id} kept in {store.path} (kind ping, environment {ping_runs.ENVIRONMENT})",
            file=sys.stderr,
        )
    return 0 if reached else 1


def consistency_command(args, progress) -> int:
    """``mrkv-probe consistency``: the per-region table of MREC and MRSC (stdout; with ``--json`` alone the figures
    as JSON on stdout and the table on stderr). 1 when a side had not one acknowledged write."""
    from dashboard.measure.consistency_runs import compare_consistency
    from dashboard.measure.probes import consistency_figures

    settings = {
        "regions": csv_list(args.regions) or None,
        "witness": args.witness,
        "network": args.network,
        "client_location": args.client_location,
        "isolate": args.isolate,
        "writes": args.writes,
        "trials": args.trials,
        "isolation_rounds": args.isolation_rounds,
    }
    sides = controls = None
    if bool(args.mrec_endpoints) != bool(args.mrsc_endpoints):
        raise TargetError(
            "give both --mrec-endpoints and --mrsc-endpoints, or neither (to start both clouds)"
        )
    if args.mrec_endpoints:
        from dashboard.measure.targets import load_endpoints_file

        sides = {
            "MREC": load_endpoints_file(args.mrec_endpoints),
            "MRSC": load_endpoints_file(args.mrsc_endpoints),
        }
        controls = {side: _control(targets) for side, targets in sides.items()}
    store = None
    if not args.no_store:
        from dashboard.measure.runs.store import RunStore

        store = RunStore(args.store)
    result = compare_consistency(
        settings, store, progress, created_by="cli", name=args.name, sides=sides, controls=controls
    )
    progress.finish()
    out = _report_stream(args)
    figures = result.figures
    print(consistency_figures.table(figures).to_string(index=False, na_rep="-"), file=out)
    for side, totals in figures["sides"].items():
        print(consistency_figures.verdict(side, totals), file=out)
    if args.json == "-":
        print(json.dumps({"kind": "consistency", "run": result.run_id, "figures": figures}, indent=1,
                         ensure_ascii=False, allow_nan=False))  # fmt: skip
    elif args.json:
        Path(args.json).write_text(
            json.dumps({"kind": "consistency", "run": result.run_id, "figures": figures})
        )
        print(f"figures: {args.json}", file=sys.stderr)
    if result.run_id:
        print(f"run {result.run_id} kept in {store.path} (kind consistency)", file=sys.stderr)
    silent = [side for side, totals in figures["sides"].items() if not totals["writes_acked"]]
    if silent or not figures["sides"]:
        print(f"error: no write was acknowledged by {', '.join(silent) or 'either cloud'}", file=sys.stderr)
        return 1
    return 0

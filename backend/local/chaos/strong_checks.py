"""The checker's rules for MRSC (multi-Region strong consistency) runs, and the availability count of every run.
Pure, as ``checker.py``: events in, figures out.

A **strongly consistent read** is a read event with ``"consistent": true`` (DynamoDB GetItem ConsistentRead=True
straight to a region's endpoint, ``clients.strong_read``). MRSC promises that it returns the latest acknowledged
write: a strong read that began after write W of its key was acknowledged must return W or a newer write. It is
**stale** when it certainly did not, by either of two orders:

- **the hidden version**: the read returned write X with a known version, lower than W's (or than W's lower bound,
  for a direct write, ``ordering.lower_bound``): the regions themselves order X before W;
- **real time**: X was acknowledged before W was invoked, so any strongly consistent order puts W after X (this
  one needs no version, so it also judges the values of direct writes);

or the read found no item although W was acknowledged before it began (the workload deletes nothing).

Values are unique per write, so a read's value names its write. A read returning a value whose write's outcome is
unknown (``info``) or certainly failed is not judged here (``checker.py`` counts the second kind); neither
is a read that began before any write of its key was acknowledged.

**Availability** (``availability``): each write and strong read is counted under the fault active when it was
invoked ("none" between faults), split by what it targeted: the faulted region, another region, or the global
endpoint (which routes to a healthy region, the faulted one included while its health check passes), with its
outcome: ``ok``,
``refused`` (``fail``: certainly not done, e.g. a 409 ReplicatedWriteConflictException or a refused connection)
or ``unknown`` (``info``: a 5xx such as an isolated region's InternalServerError, or a timeout).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from backend.local.chaos.ordering import clock_lags, lower_bound, version_of

EXAMPLES = 10


def is_strong_read(event: dict) -> bool:
    return event.get("f") == "read" and bool(event.get("consistent"))


def stale_strong_reads(events: list[dict]) -> dict:
    """Strong reads judged, stale ones, and examples (module doc)."""
    ops = [e for e in events if e.get("type") in ("invoke", "ok", "fail", "info")]
    lags = clock_lags(events)
    invoked_at = {(e["process"], e.get("op")): e["t"] for e in ops if e["type"] == "invoke"}
    acked: dict[str, list[dict]] = defaultdict(list)  # key -> acknowledged writes, each with its times and bounds
    by_value: dict[tuple[str, str], dict] = {}
    for event in ops:
        if event["type"] == "ok" and event["f"] == "write":
            write = {
                "value": event["value"],
                "invoked": invoked_at.get((event["process"], event.get("op")), event["t"]),
                "acked": event["t"],
                "version": version_of(event),
                "at_least": lower_bound(event, lags.get((event["process"], event.get("op")), 0)),
            }
            acked[event["key"]].append(write)
            by_value[(event["key"], event["value"])] = write
    counts: Counter = Counter()
    examples: list[dict] = []
    for event in ops:
        if not (event["type"] == "ok" and is_strong_read(event)):
            continue
        counts["reads"] += 1
        started = invoked_at.get((event["process"], event.get("op")), event["t"])
        before = [w for w in acked.get(event["key"], ()) if w["acked"] < started]
        if not before:
            counts["no_write_before"] += 1
            continue
        value = event.get("value")
        got = by_value.get((event["key"], value)) if value is not None else None
        if value is not None and got is None:
            counts["not_judged"] += 1  # the value of a write whose outcome is unknown (or that failed)
            continue
        newer = [w for w in before if w is not got and _certainly_newer(w, got)]
        if not newer:
            counts["judged_fresh"] += 1
            continue
        counts["stale"] += 1
        if len(examples) < EXAMPLES:
            required = max(newer, key=lambda w: (w["acked"], w["at_least"] or (0, "")))
            examples.append(_example(event, started, got, required))
    return {
        "reads": counts["reads"],
        "stale": counts["stale"],
        "judged_fresh": counts["judged_fresh"],
        "no_write_before": counts["no_write_before"],
        "not_judged": counts["not_judged"],
        "examples": examples,
    }


def _certainly_newer(write: dict, got: dict | None) -> bool:
    """True when ``write`` is certainly newer than ``got`` (None: the read found nothing)."""
    if got is None:
        return True
    if got["version"] is not None and write["at_least"] is not None and write["at_least"] > got["version"]:
        return True
    return write["invoked"] > got["acked"]


def _example(read: dict, started: float, got: dict | None, required: dict) -> dict:
    def text(version):
        return None if version is None else f"{version[0]}:{version[1]}"

    return {
        "key": read["key"],
        "read": f"{read['process']}/{read.get('op')}",
        "region": read.get("region") or read.get("target"),
        "read_invoked_t": started,
        "read_ok_t": read["t"],
        "returned": None if got is None else got["value"],
        "returned_version": None if got is None else text(got["version"]),
        "returned_write_acked_t": None if got is None else got["acked"],
        "newer_write": required["value"],
        "newer_version": text(required["version"]) or f">= {text(required['at_least'])}",
        "newer_write_invoked_t": required["invoked"],
        "newer_write_acked_t": required["acked"],
    }


def fault_windows(events: list[dict]) -> list[tuple[float, float, str, str]]:
    """(start, heal, kind, region) of every fault, from its start and heal events (still open: up to infinity)."""
    windows, open_faults = [], {}
    for event in events:
        if event.get("type") != "fault":
            continue
        name = (event["kind"], event["region"])
        if event["f"] == "start":
            open_faults[name] = event["t"]
        elif name in open_faults:
            windows.append((open_faults.pop(name), event["t"], *name))
    windows += [(started, float("inf"), *name) for name, started in open_faults.items()]
    return sorted(windows)


def availability(events: list[dict]) -> dict:
    """{fault kind or "none": {"faulted region" | "other regions" | "global endpoint": {"writes" | "strong_reads":
    {outcome: n}}}}."""
    windows = fault_windows(events)
    invoked = {(e["process"], e.get("op")): e for e in events if e.get("type") == "invoke"}
    table: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(Counter)))
    for event in events:
        if event.get("type") not in ("ok", "fail", "info") or event.get("process", "").startswith("final-"):
            continue
        if event["f"] == "write":
            operation = "writes"
        elif is_strong_read(event):
            operation = "strong_reads"
        else:
            continue
        started = invoked.get((event["process"], event.get("op")), event)["t"]
        active = [w for w in windows if w[0] <= started < w[1]]
        kind, region = (active[-1][2], active[-1][3]) if active else ("none", None)
        target = event.get("target")
        where = "global endpoint" if target == "global" else "faulted region" if target == region else "other regions"
        outcome = {"ok": "ok", "fail": "refused", "info": "unknown"}[event["type"]]
        table[kind][where][operation][outcome] += 1
    return {kind: {where: {op: dict(c) for op, c in ops.items()} for where, ops in wheres.items()}
            for kind, wheres in sorted(table.items())}  # fmt: skip

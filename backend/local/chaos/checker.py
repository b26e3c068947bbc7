"""The checker of a fault run's history. Pure: events and the final state in, a report (a dict) out.

History events (one JSON object a line, as ``history.py`` records them), in the order they happened:

    {"t": 1.234, "process": "c0", "type": "invoke", "f": "write", "key": "k", "value": "c0-17", "target": "us-west-2"}
    {"t": 1.240, "process": "c0", "type": "ok",     "f": "write", "key": "k", "value": "c0-17", "target": "us-west-2",
     "region": "us-west-2", "writtenAt": 1764214000123, "version": "1764214000123456:us-west-2"}
    {"t": 1.250, "process": "c1", "type": "ok",     "f": "read",  "key": "k", "value": "c0-17" | null,
     "region": "us-west-2", "writtenAt": 1764214000123, "target": "global"}
    {"t": 2.0, "type": "fault", "f": "start" | "heal", "kind": "replication-pause", "region": "eu-central-1"}
    {"t": 3.0, "type": "lag", "src": "us-west-2", "dst": "eu-central-1", "ms": 41.5, "fault": null}

``type`` is Jepsen's: ``invoke`` (the request is sent), ``ok`` (it happened), ``fail`` (it certainly did not),
``info`` (unknown: a timeout, a reset connection, a 5xx after the request was sent). A read's ``value`` null is
a 404. The final state is ``{region: {key: {"value", "region", "writtenAt", "version"}}}``, read after quiescence.

Writes are ordered as the regions order them: by the hidden version DynamoDB stamped each write with
(``backend/local/dynamodb/versions.py``; "ts_us:region"), which the local cloud reports on each write through the API
(``X-Mrkv-Item-Version``) and for each final item (the regions' door). ``writtenAt`` is only an attribute. Values are
unique per write, so a read's version is the version of the write that wrote its value (unknown for a value whose
write's outcome is unknown: such reads are not judged stale).

Direct writes (``"via": "dynamodb"``: a DynamoDB client's PutItem or UpdateItem straight to a region's endpoint, as
the AWS CLI makes them) get no version back. Their region stamped them while the call was in flight, so their
version is at least ``(t0_us, "")``, the call's start on this machine's clock, or that minus the region's clock lag
when a ``clock-offset`` fault set its clock behind during the call: that lower bound is what a region must finally
hold, at least, for the write not to be lost.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from backend.local.chaos.ordering import Version, clock_lags, lower_bound, version_of
from backend.local.chaos.strong_checks import availability, stale_strong_reads


def quantiles(values, points=(0.5, 0.9, 0.99)) -> dict:
    """Nearest-rank quantiles plus count and max; None values when there is no sample."""
    ordered = sorted(values)
    answer = {"count": len(ordered)}
    for point in points:
        name = f"p{round(point * 100):d}"
        answer[name] = ordered[min(len(ordered) - 1, int(point * len(ordered)))] if ordered else None
    answer["max"] = ordered[-1] if ordered else None
    return answer


def check(events: list[dict], final: dict[str, dict[str, dict]], convergence_s: float | None = None) -> dict:
    """Everything the report says, computed from the history and the final state."""
    ops = [e for e in events if e.get("type") in ("invoke", "ok", "fail", "info")]
    operations = Counter(f"{_name(e)}:{e['type']}" for e in ops if e["type"] != "invoke")
    faults = Counter(e["kind"] for e in events if e.get("type") == "fault" and e.get("f") == "start")
    invoked_values, failed_values, acknowledged = _writes(ops)
    regions = sorted(final)
    converged, divergent_keys = _convergence(final)
    lost = _lost(acknowledged, final, clock_lags(events))
    lost_writes = {(entry["key"], entry["value"]) for entry in lost}
    never_written, failed_visible = _bad_reads(ops, final, invoked_values, failed_values)
    return {
        "regions": regions,
        "operations": dict(sorted(operations.items())),
        "operations_total": sum(operations.values()),
        "faults": dict(sorted(faults.items())),
        "keys": len(invoked_values),
        "acknowledged_writes": len(acknowledged),
        "acknowledged_direct_writes": sum(write.get("via") == "dynamodb" for write in acknowledged),
        "acknowledged_without_version": sum(lower_bound(write) is None for write in acknowledged),
        "converged": converged,
        "divergent_keys": divergent_keys[:20],
        "divergent_key_count": len(divergent_keys),
        "items_per_region": {r: len(final[r]) for r in regions},
        "lost_acknowledged_writes": len(lost_writes),
        "lost_examples": lost[:10],
        "never_written_reads": len(never_written),
        "never_written_examples": never_written[:10],
        "failed_write_visible": len(failed_visible),
        "failed_write_visible_examples": failed_visible[:10],
        "stale_reads": _stale_reads(ops),
        "strong_reads": stale_strong_reads(events),
        "availability": availability(events),
        "lag_ms": _lag(events),
        "convergence_s": convergence_s,
    }


def _name(event: dict) -> str:
    return "read(strong)" if event["f"] == "read" and event.get("consistent") else event["f"]


def _writes(ops: list[dict]) -> tuple[dict[str, set[str]], dict[str, set[str]], list[dict]]:
    """What was written: every invoked value per key (it may have happened), the values whose write certainly
    failed, and the acknowledged writes."""
    invoked_values: dict[str, set[str]] = defaultdict(set)
    failed_values: dict[str, set[str]] = defaultdict(set)
    acknowledged: list[dict] = []
    for event in ops:
        if event["f"] != "write":
            continue
        if event["type"] == "invoke":
            invoked_values[event["key"]].add(event["value"])
        elif event["type"] == "fail":
            failed_values[event["key"]].add(event["value"])
        elif event["type"] == "ok":
            acknowledged.append(event)
    return invoked_values, failed_values, acknowledged


def _convergence(final: dict[str, dict[str, dict]]) -> tuple[bool, list[str]]:
    """Convergence: every region holds the same items; and the keys on which two regions differ."""
    states = [_normalise(final[r]) for r in sorted(final)]
    converged = all(state == states[0] for state in states[1:]) if states else True
    divergent_keys = sorted(
        {key for state in states for key in state if any(s.get(key) != state.get(key) for s in states)}
    )
    return converged, divergent_keys


def _lost(acknowledged: list[dict], final: dict[str, dict[str, dict]], lags: dict | None = None) -> list[dict]:
    """Lost: an acknowledged write whose version (or its lower bound) is above what a region finally holds."""
    lost = []
    for write in acknowledged:
        mine = lower_bound(write, (lags or {}).get((write["process"], write.get("op")), 0))
        if mine is None:
            continue  # counted apart: acknowledged_without_version
        for region in sorted(final):
            held = version_of(final[region].get(write["key"]))
            if held is None or held < mine:
                lost.append(
                    {
                        "key": write["key"],
                        "value": write["value"],
                        "writtenAt": write.get("writtenAt"),
                        "region": write["region"],
                        "version": write.get("version"),
                        "missing_in": region,
                        "holds": held,
                    }
                )
    return lost


def _bad_reads(ops, final, invoked_values, failed_values) -> tuple[list[dict], list[dict]]:
    """Reads (the clients' and the final state's) of a value never written, or of a write that certainly failed."""
    reads = [e for e in ops if e["f"] == "read" and e["type"] == "ok"]
    final_reads = [
        {"key": key, "value": item.get("value"), "process": f"final-{region}"}
        for region in sorted(final)
        for key, item in final[region].items()
    ]
    never_written, failed_visible = [], []
    for read in reads + final_reads:
        value = read.get("value")
        if value is None:
            continue
        if value not in invoked_values.get(read["key"], ()):
            never_written.append({"key": read["key"], "value": value, "process": read.get("process")})
        elif value in failed_values.get(read["key"], ()):
            failed_visible.append({"key": read["key"], "value": value, "process": read.get("process")})
    return never_written, failed_visible


def _normalise(state: dict[str, dict]) -> dict[str, Version | None]:
    return {key: version_of(item) for key, item in state.items()}


def _stale_reads(ops: list[dict]) -> dict:
    """An eventually consistent read is stale when a write of its key was acknowledged before the read was invoked
    and the read returned an older version (or nothing); strong reads are judged apart (``strong_checks.py``).
    Split by where the read was served: in the region that acknowledged that newest
    write (read-your-writes in one region: never stale, unless the region lost its table) or in another one."""
    invoked_at: dict[tuple[str, str], float] = {}
    newest_acked: dict[str, list[tuple[float, Version]]] = defaultdict(list)  # key -> [(ack time, version)]
    written: dict[tuple[str, str], Version] = {}  # (key, value) -> the version its acknowledged write got
    for event in ops:
        if event["type"] == "invoke":
            invoked_at[(event["process"], event.get("op", ""))] = event["t"]
        elif event["type"] == "ok" and event["f"] == "write" and version_of(event) is not None:
            newest_acked[event["key"]].append((event["t"], version_of(event)))
            written[(event["key"], event["value"])] = version_of(event)
    counts = Counter()
    for event in ops:
        if not (event["type"] == "ok" and event["f"] == "read") or event.get("consistent"):
            continue
        counts["reads"] += 1
        started = invoked_at.get((event["process"], event.get("op", "")), event["t"])
        before = [version for at, version in newest_acked.get(event["key"], ()) if at < started]
        if not before:
            continue
        required = max(before)
        if event.get("value") is not None and (event["key"], event["value"]) not in written:
            continue  # a value whose write's outcome is unknown: its version is unknown too
        got = written.get((event["key"], event.get("value")))
        if got is not None and got >= required:
            continue
        served = event.get("region") or event.get("target")
        where = "same_region" if served == required[1] else "other_region"
        counts[where] += 1
        counts["total"] += 1
    return {
        "reads": counts["reads"],
        "total": counts["total"],
        "same_region": counts["same_region"],
        "other_region": counts["other_region"],
    }


def _lag(events: list[dict]) -> dict:
    """Replication lag quantiles per source → destination pair, from the lag probe's samples: all of them, and
    only those taken while no fault was active."""
    pairs: dict[str, list[float]] = defaultdict(list)
    quiet: dict[str, list[float]] = defaultdict(list)
    unseen: Counter = Counter()
    for event in events:
        if event.get("type") != "lag":
            continue
        pair = f"{event['src']} -> {event['dst']}"
        if event.get("ms") is None:
            unseen[pair] += 1
            continue
        pairs[pair].append(event["ms"])
        if not event.get("fault"):
            quiet[pair].append(event["ms"])
    return {
        pair: {"all": quantiles(pairs[pair]), "no_fault": quantiles(quiet[pair]), "not_seen": unseen[pair]}
        for pair in sorted(set(pairs) | set(unseen))
    }

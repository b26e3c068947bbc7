"""The Markdown report of a fault run (``docs/RELIABILITY.md``), from the checker's report plus the run's settings.

``render`` builds it from a report dict; ``rerender`` does it again from a report saved with ``--json`` (no run).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def passed(report: dict) -> bool:
    return (
        report["converged"]
        and report["lost_acknowledged_writes"] == 0
        and not report.get("acknowledged_without_version")
        and report["never_written_reads"] == 0
        and report["failed_write_visible"] == 0
        and not report["fault_errors"]
        and not report.get("strong_reads", {}).get("stale")
    )


def _strong(report: dict) -> bool:
    return report["settings"].get("consistency") == "strong"


DESIGN_NOTES = """
## How the run works and how to read it

- **Direct writers.** A quarter of the writes go straight to a region's DynamoDB endpoint, as the AWS CLI makes them:
  a PutItem of key and value only, or an UpdateItem (SET value, ADD n) of whatever the region holds. They get no
  version back; the region stamped them during the call, so the call's start is a lower bound of their version, and
  a region that finally holds less has lost them.
- **History.** Every client operation is an `invoke` event and one completion: `ok` (it happened; a write's
  answer carries its `writtenAt`, region and hidden version), `fail` (it certainly did not: connection refused, a 4xx) or `info`
  (unknown: a timeout, a connection reset after the request was sent, a 5xx). An `info` write may or may not be
  applied, so a read may return its value without counting as "never written". `--history FILE.jsonl` keeps it.
- **Order of versions.** Last writer wins on the hidden version each region stamps a write with (its clock in µs,
  then the region; `backend/local/dynamodb/versions.py`), as on AWS; `writtenAt` is only an attribute. The local
  cloud reports the version of each write through the API and of each final item, so the checker orders writes
  exactly as the regions did. A write is *lost* when a region finally holds a lower version of its key (or nothing):
  being overwritten by a higher version is LWW working, not a loss. A region with a skewed clock (the
  `clock-offset` fault) really does make its concurrent writes lose, as on AWS.
- **Faults** (`backend/local/chaos/faults.py`), one at a time, healed before the next: replication paused into a
  region (control API); the replicator killed with `kill -9` and restarted on its checkpoints; a region's process
  killed with `kill -9` and started again on the same ports; a region stopped with `SIGSTOP` then `SIGCONT`; a
  region's writer clock moved ahead or behind.
- **A killed region comes back empty** (moto keeps nothing) and is refilled by the replicator's backfill from its
  peers, as AWS fills a new replica. DynamoDB's storage survives any crash of the compute in front of it; moto's
  doesn't, so before the kill the region is fenced (replication into it paused, its endpoint answering 503) until
  the replicator has read its stream to the end. Without the fence, a write acknowledged in the last ~15-50 ms
  before the kill (one stream poll) would exist only in the killed process: an artefact of the emulator, not of
  the design, which the fence removes.
- **Quiescence and the final read.** After the last heal and the end of the workload the run waits until the
  replicator is idle and every region's table scan is identical (the convergence time), then reads every key in
  every region through the API; that final state is what the checker compares.
- **Lag** is measured by a probe that writes a key in one region and polls another every 10 ms through the API, so
  it includes up to one poll interval and one GET; samples taken while a fault was active are kept apart.
- **Stale reads** are counted, not failed: global tables promise eventual consistency. A read served by the region
  that acknowledged the newer write is only stale after that region was killed and not yet backfilled.

## Bugs this run found (fixed, with regression tests)

- moto numbered stream records `len(items) + start` before appending them, with no lock: two concurrent writes in
  a region (gateway threads and moto's HTTP threads) got the same sequence number, and the replicator, which
  skips a sequence number it has already read, never replicated the second write. Found as acknowledged writes
  missing in one region after healing, with the replicator idle. Fixed by the `serialized_writes` patch of
  `backend/local/dynamodb/patches.py` (moto's DynamoDB writes under one lock in the region process, conditions included);
  `tests/functional/test_chaos_moto_writes.py` reproduces 13 duplicate numbers in 480 concurrent puts without it.
  (The same lock serializes `StreamShard.add`, and the replicator now tells records apart by `eventID` at equal sequence numbers.)
- A backfill that waited while its region was fenced (the next restart of the same region) finished into the
  new, empty table with only its remaining items and cleared the "backfill pending" flag: the first 10-minute run
  ended with eu-central-1 missing 700 of 1,645 keys while the replicator reported itself idle. A backfill now
  counts as done only if the target's table (its stream ARN) is the one it began copying into;
  `tests/functional/test_chaos_backfill.py` (21 of 40 items without the fix).
- Every replicator restart began a backfill from its first item again; under load (3,400 conditional puts at
  20-50 ms each) it never finished between two kills about 70 s apart. It now skips what the target already
  holds (same file: 40 puts without the change, 11 with it).
- The fault injector itself: a region-restart fence that could not drain in time was left in place (the region
  answering 503 and replication into it paused for the rest of the run). It is now undone before the error is
  reported, and the drain waits up to 60 s.
"""


STRONG_NOTES = """
## MRSC: what the faults mean on a strongly consistent table

In MRSC a write is acknowledged once a second region accepted it and a strong read asks one other region, so
every strong read meets a copy of every acknowledged write (`backend/local/dynamodb/strong_protocol.py`). Each
fault kind, reviewed for that:

- **region-isolate** (MRSC only): the control API cuts the region off; it answers InternalServerError to writes
  and strong reads while the other two serve, and catches up by replication and by the protocol's repairs after
  reconnection (a region that is behind learns the newer version when a peer refuses its proposal or answers its
  read).
- **region-restart** is kept, with the region taken out of the quorum: AWS regions keep their data through a
  crash, but the emulated region comes back empty (moto keeps nothing on disk). Had it answered its peers at once,
  a write whose two copies were its old self and one other region would be down to one copy, and a strong read in
  the third region asking the empty one would return an older value: a loss AWS would not have, so the emulator
  must not report it; and hiding it by leaving the fault out would also hide any real loss of the protocol across
  a restart. So the other regions forget its door before the fence, it comes back without theirs (its writes and
  strong reads answer InternalServerError meanwhile: counted under region-restart in the availability table), and
  it rejoins only once it holds, for every key, at least the version the other regions held after it came back
  (`backend/local/chaos/strong_restart.py`). The heal includes that catch-up. `tests/e2e/test_chaos_strong_restart.py`
  shows the difference: with a write's two copies in the restarted region and one other, the third region's strong
  reads return it with the restarted region out of the quorum, and the older value (10 of 10) if it answers at once.
- **region-sigstop**: the stopped region answers nobody; a write or strong read elsewhere goes on with the third
  region's answer (the stopped one's call times out in the background). Its own requests hang until SIGCONT. When
  it resumes it reads the questions still queued on its sockets: it must not apply a proposal its region has given
  up on (below).
- **clock-offset**: an MRSC write's version is at least the newest version its region learned plus 1 µs (a peer
  that holds a newer one refuses the proposal and the region repairs itself first), so a skewed clock cannot order
  a write before one acknowledged earlier; it only moves the versions.
- **replicator-kill** and **replication-pause**: MRSC's copies come from the protocol, not the replicator, which
  only brings the third region up to date; a region that is behind is repaired by the protocol when it writes or
  reads the key.

Bug in the MRSC emulation found by that review (fixed, `tests/e2e/test_mrsc_stopped_peer.py`): with us-east-2
stopped, write C of a key in us-west-2 waited one round trip for us-east-1's accept; write A of the same key in
us-east-1 began meanwhile, us-west-2 refused it ("pending": its own older write) and us-east-2 did not answer, so
A's client got ReplicatedWriteConflictException (409: nothing written). On SIGCONT us-east-2 applied A's queued
proposal, whose version was above C's, and every strong read then returned A, a write its client was told had
failed, instead of C, an acknowledged one (and us-east-2 diverged: the replicator never forwards an accepted
proposal). Now a write that got no accept while a peer was silent answers InternalServerError (outcome unknown),
and a proposal carries a deadline shorter than the proposer's wait, past which a peer refuses it
(`backend/local/dynamodb/strong_protocol.py`, step 5). The protocol cannot yet tell a peer that never got the
question (isolated, out of the quorum, connection refused) from one that may have: both count as silent, so such a
conflict answers InternalServerError where a 409 would be exact (conservative: never "not written" when it may be).
"""


def _load_text(load: dict | None) -> str:
    if not load:
        return "not recorded"
    if "text" in load:
        return load["text"]
    return f"{load['start']} at the start, {load['end']} at the end"


def _header(report: dict, command: str) -> list[str]:
    s = report["settings"]
    verdict = "PASS" if passed(report) else "FAIL"
    strong = _strong(report)
    witness = f" with witness {s['witness']}" if s.get("witness") else ""
    mode = (
        f"Global table: **multi-Region strong consistency (MRSC)**{witness}; {s['strong_read_fraction']:.0%} of the "
        "reads are strongly consistent (GetItem ConsistentRead=True straight to a random region's DynamoDB, boto3 "
        "with no retries), the rest eventually consistent reads through the API. Faults: "
        f"{', '.join(s.get('kinds', []))}."
        if strong
        else ""
    )
    return [
        "# Reliability: history-checked fault runs of the local cloud" + (" with MRSC" if strong else ""),
        "",
        f"Result: **{verdict}**. Reproduce with:",
        "",
        "```",
        command,
        "```",
        "",
        f"Workload: {s['write_fraction']:.0%} of each client's operations are writes of unique values, to its own "
        f"{s['keys_per_client']} keys or ({s['hot_fraction']:.0%} of writes) to {s['hot_keys']} hot keys every client writes (conflicts "
        f"across regions), through a random region's endpoint or the global one, and reads back its recent keys and "
        f"the hot ones; {s['think_ms']:.0f} ms between operations.",
        "",
        f"Run: {s['seconds'] / 60:.1f} minutes of workload ({report['wall_s']} s wall clock with start-up, quiescence "
        f"and final reads), regions {', '.join(s['regions'])}, {s['clients']} client threads + 1 lag probe, seed "
        f"{s['seed']}, network model `{s['network']}`, each fault {s['fault_s']} s then {s['gap_s']} s healed, "
        f"request timeout {s['request_timeout_s']} s (a timeout is `info`: indeterminate). Machine: "
        f"{os.cpu_count()} cores, shared; 1-minute load average {_load_text(report.get('load_average'))}.",
        *(["", mode] if mode else []),
    ]


def _checks(report: dict) -> list[str]:
    return [
        "## Checks",
        "",
        "| check | result |",
        "|---|---|",
        f"| every region identical after healing (converged) | {'yes' if report['converged'] else 'NO'} "
        f"({report['divergent_key_count']} divergent keys) |",
        f"| acknowledged writes lost (not superseded by a write of higher hidden version) | "
        f"{report['lost_acknowledged_writes']} (of {report['acknowledged_writes']} acknowledged, "
        f"{report.get('acknowledged_direct_writes', 0)} of them straight to DynamoDB without the app's attributes) |",
        f"| acknowledged writes the checker could not order (no version, no call time) | "
        f"{report.get('acknowledged_without_version', 0)} |",
        f"| values read that were never written | {report['never_written_reads']} |",
        f"| values read whose write had certainly failed | {report['failed_write_visible']} |",
        f"| convergence time after the last heal and the end of the workload | "
        f"{report['convergence_s'] if report['convergence_s'] is not None else 'not reached'} s |",
        f"| final state read through the API equals each region's table scan | {report['scan_matches_api']} |",
        f"| items per region at the end | {', '.join(f'{r}: {n}' for r, n in report['items_per_region'].items())} |",
        f"| faults that could not be injected or healed | {len(report['fault_errors'])} |",
        *(
            [
                f"| stale strong reads (a strong read begun after write W's acknowledgement returned an older write "
                f"or nothing) | {report['strong_reads']['stale']} (of {report['strong_reads']['reads']} strong "
                f"reads) |"
            ]
            if _strong(report)
            else []
        ),
    ]


def _operations_and_faults(report: dict) -> list[str]:
    return [
        "## Operations",
        "",
        "| operation:outcome | count |",
        "|---|---|",
        *[f"| {name} | {count} |" for name, count in report["operations"].items()],
        f"| **total** | {report['operations_total']} |",
        "",
        f"Keys written: {report['keys']}. Reads include the final read of every key in every region.",
        "",
        "## Faults injected",
        "",
        "| kind | count |",
        "|---|---|",
        *[f"| {kind} | {count} |" for kind, count in report["faults"].items()],
    ]


def _stale_reads(report: dict) -> list[str]:
    return [
        "## Stale reads",
        "",
        "A read is stale when a write of its key was acknowledged before the read began and the read returned an older "
        "version or nothing. Expected under asynchronous replication (global tables promise eventual consistency); "
        "counted, not failed.",
        "",
        f"- reads: {report['stale_reads']['reads']}; stale: {report['stale_reads']['total']} "
        f"(served by the region that acknowledged the newer write: {report['stale_reads']['same_region']}; "
        f"by another region: {report['stale_reads']['other_region']})",
    ]


def _strong_reads(report: dict) -> list[str]:
    if not _strong(report):
        return []
    r = report["strong_reads"]
    return [
        "## Strong reads",
        "",
        "A strongly consistent read that began after write W of its key was acknowledged must return W or a newer "
        "write (`backend/local/chaos/strong_checks.py`): it is stale when the write it returned has a lower hidden "
        "version than W (or than W's lower bound, for a direct write), or was acknowledged before W was invoked, or "
        "when it found nothing. Values are unique per write, so a read's value names its write.",
        "",
        f"- strong reads answered: {r['reads']}; **stale: {r['stale']}**",
        f"- judged and fresh: {r['judged_fresh']}; begun before any write of the key was acknowledged: "
        f"{r['no_write_before']}; returned the value of a write whose outcome is unknown (not judged): "
        f"{r['not_judged']}",
        *(["", "```", json.dumps(r["examples"], indent=1)[:3000], "```"] if r["examples"] else []),
    ]


def _availability(report: dict) -> list[str]:
    table = report.get("availability") or {}
    lines = [
        "## Availability per fault",
        "",
        "Writes and strong reads by the fault active when they were invoked and by target: the faulted region's "
        "endpoints, the other regions', or the global endpoint (it routes by health check, so to the faulted region "
        "too while that one still answers its health check, e.g. an isolated region). Outcomes: ok / refused "
        "(certainly not done: a 4xx such as a 409 conflict, a refused connection) / unknown (a 5xx such as an "
        "isolated region's InternalServerError, a timeout). The lag probe's writes are included; the final reads "
        "are not.",
        "",
        "| fault | where | writes ok | refused | unknown | strong reads ok | refused | unknown |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, wheres in table.items():
        for where, ops in sorted(wheres.items()):
            w, r = ops.get("writes", {}), ops.get("strong_reads", {})
            lines.append(
                f"| {kind} | {where} | {w.get('ok', 0)} | {w.get('refused', 0)} | {w.get('unknown', 0)} "
                f"| {r.get('ok', 0)} | {r.get('refused', 0)} | {r.get('unknown', 0)} |"
            )
    return lines


def _lag(report: dict) -> list[str]:
    lines = [
        "## Replication lag per pair (lag probe, ms from the write's acknowledgement to the first read that sees it)",
        "",
        "| pair | samples | p50 | p90 | p99 | max | no-fault p50 | no-fault p99 | not seen in 15 s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for pair, lag in report["lag_ms"].items():
        a, q = lag["all"], lag["no_fault"]
        lines.append(
            f"| {pair} | {a['count']} | {a['p50']} | {a['p90']} | {a['p99']} | {a['max']} | {q['p50']} | {q['p99']} "
            f"| {lag['not_seen']} |"
        )
    return lines


def _replicator_latency(report: dict) -> list[str]:
    return [
        "The replicator's own ReplicationLatency (CloudWatch's metric: from the source stream record's creation to the "
        "apply; since the replicator's last restart). It counts catch-up: records held while replication into a region "
        "was paused (the replication-pause and region-restart faults) and records read again after a kill are applied "
        "late, so its tail measures how long faults held changes back, not steady-state lag; the probe's no-fault "
        "columns above are the steady-state figures (and include the machine's load: see the load average).",
        "",
        "| pair | applied | p50 | p99 | max |",
        "|---|---|---|---|---|",
        *[
            f"| {p['source']} -> {p['destination']} | {p['count']} | {p['p50_ms']} | {p['p99_ms']} | {p['max_ms']} |"
            for p in report.get("replicator_pairs", [])
        ],
    ]


def _problems(report: dict) -> list[str]:
    lines = []
    if report["fault_errors"]:
        lines += ["", "## Fault errors", "", *[f"- {e}" for e in report["fault_errors"]]]
    for name in ("lost_examples", "never_written_examples", "divergent_keys"):
        if report.get(name):
            lines += ["", f"## {name}", "", "```", json.dumps(report[name], indent=1)[:3000], "```"]
    return lines


def render(report: dict, command: str) -> str:
    """The report as Markdown (docs/RELIABILITY.md)."""
    sections = [
        _header(report, command),
        _checks(report),
        _operations_and_faults(report),
        _stale_reads(report),
        _strong_reads(report),
        _availability(report),
        _lag(report),
        _replicator_latency(report),
        STRONG_NOTES.strip("\n").splitlines() if _strong(report) else [],
        DESIGN_NOTES.strip("\n").splitlines(),
    ]
    sections = [section for section in sections if section]
    lines = [line for number, section in enumerate(sections) for line in ([""] if number else []) + section]
    return "\n".join(lines + _problems(report)) + "\n"


def rerender(json_path: str, report_path: str | None) -> int:
    """``--from-json``: the report saved with ``--json`` rendered again (and written to ``report_path``)."""
    try:
        saved = json.loads(Path(json_path).read_text())
        text = render(saved, saved.get("command", "python -m backend.local.chaos"))
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"error: {json_path} is not a report saved by --json: {error!r}", file=sys.stderr)
        return 2
    if report_path:
        Path(report_path).write_text(text)
    print(text)
    return 0 if passed(saved) else 1

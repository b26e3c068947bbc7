"""Global-tables replication end to end: real moto region processes, the real replicator process, 8 writers.

Writers write items exactly as the handler does (PutItem of key/value/region/writtenAt, unconditional; DeleteItem),
straight to each region's DynamoDB endpoint. After quiescence every region must hold the same data, equal per key to
the last-writer-wins winner of the acknowledged writes. The winner is the write with the newest hidden version, which
the region stamped with its clock (this machine's) while the call was in flight: so a write whose call ended before
another's began is surely older, and writes whose calls overlapped may win either way.
"""

from __future__ import annotations

import random
import threading
import time

import boto3
import pytest
from botocore.config import Config
from replication_support import get_json, post_json, start_region, start_replicator

from backend.local.replication.housekeeping import TRIM_INTERVAL_S

pytestmark = pytest.mark.e2e

REGIONS = ("us-west-2", "eu-central-1", "ap-northeast-1")
TABLE = "keyvalues"
KEYS = [f"key{n:03d}" for n in range(100)]


@pytest.fixture(scope="module")
def regions():
    started = {}
    try:
        for region in REGIONS:
            started[region] = start_region(region)
        yield {region: process.ready for region, process in started.items()}
    finally:
        for process in started.values():
            process.stop()


@pytest.fixture
def clean_tables(regions):
    """A fresh keyvalues table (and so a fresh stream) in every region, as a fresh local cloud has."""
    from backend.store import table_definition

    for region, ready in regions.items():
        c = dynamodb(ready["dynamodb"], region)
        c.delete_table(TableName=TABLE)
        c.create_table(**table_definition(TABLE))
    return regions


@pytest.fixture
def replicator(clean_tables, tmp_path):
    """Starts the replicator process (and restarts it on demand, same config and state)."""
    config = {
        "table": TABLE,
        "regions": {region: ready["admin"] + "/__admin/dynamodb" for region, ready in clean_tables.items()},
        "region_admin": {region: ready["admin"] for region, ready in clean_tables.items()},
        "state_dir": str(tmp_path / "state"),
        "network": "none",
        "delay": "auto",
    }
    holder = {"all": []}

    def start():
        holder["process"] = start_replicator(config, tmp_path / "replicator.json")
        holder["all"].append(holder["process"])
        return holder["process"]

    start()
    holder["start"] = start
    yield holder
    for process in holder["all"]:
        process.stop()


def dynamodb(url, region):
    return boto3.client(
        "dynamodb",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 0}, max_pool_connections=2),
    )


def scan(c):
    items, start = [], None
    while True:
        kwargs = {"ExclusiveStartKey": start} if start else {}
        page = c.scan(TableName=TABLE, ConsistentRead=True, **kwargs)
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def contents(c) -> dict:
    return {i["key"]["S"]: (i["value"]["S"], i["region"]["S"], int(i["writtenAt"]["N"])) for i in scan(c)}


class Writer(threading.Thread):
    """One client: random puts and deletes on the shared keys, in random regions; records what was acknowledged."""

    def __init__(self, number, regions, ops, write_regions, skew_ms=0, progress=None):
        super().__init__(name=f"writer-{number}", daemon=True)
        self.number, self.ops, self.skew_ms, self.progress = number, ops, skew_ms, progress
        self.clients = {r: dynamodb(regions[r]["dynamodb"], r) for r in write_regions}
        self.random = random.Random(number)
        self.history: list[dict] = []
        self.errors: list[str] = []

    def run(self):
        names = sorted(self.clients)
        for n in range(self.ops):
            region, key = self.random.choice(names), self.random.choice(KEYS)
            c = self.clients[region]
            try:
                if self.random.random() < 0.65:
                    value = f"w{self.number}-{n}"
                    ts = int(time.time() * 1000) + self.skew_ms  # an attribute: it decides nothing
                    item = {
                        "key": {"S": key},
                        "value": {"S": value},
                        "region": {"S": region},
                        "writtenAt": {"N": str(ts)},
                    }
                    t0 = time.time_ns() // 1000
                    c.put_item(TableName=TABLE, Item=item)
                    t1 = time.time_ns() // 1000
                    self.history.append({"op": "put", "key": key, "region": region, "value": value, "ts": ts,
                                         "t0": t0, "t1": t1})  # fmt: skip
                else:
                    t0 = time.time_ns() // 1000
                    old = c.delete_item(TableName=TABLE, Key={"key": {"S": key}}, ReturnValues="ALL_OLD")
                    t1 = time.time_ns() // 1000
                    if old.get("Attributes"):  # deleting a missing key is a no-op: no stream record, no write
                        self.history.append(
                            {"op": "delete", "key": key, "region": region, "t0": t0, "t1": t1}
                        )
            except Exception as error:  # noqa: BLE001 - recorded and asserted on by the test
                self.errors.append(f"{type(error).__name__}: {error}")
            if self.progress is not None:
                self.progress()


def run_writers(regions, clients=8, ops=150, write_regions=REGIONS, skews=None, progress=None):
    writers = [
        Writer(i, regions, ops, write_regions, (skews or {}).get(i, 0), progress) for i in range(clients)
    ]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=240)
    assert not any(w.is_alive() for w in writers), "writers hung"
    errors = [e for w in writers for e in w.errors]
    assert not errors, errors[:5]
    return [h for w in writers for h in w.history]


def expected_state(history):
    """Per key: what the last writer leaves (an item, or None after a delete), and the keys where calls overlapped
    so that more than one write may be last. A write may be last unless some other write's call began after its call
    ended (µs, this machine's clock, which the regions stamp with)."""
    by_key: dict[str, list] = {}
    for h in history:
        by_key.setdefault(h["key"], []).append(h)
    expected, ambiguous = {}, {}
    for key, ops in by_key.items():
        latest_start = max(op["t0"] for op in ops)
        candidates = [op for op in ops if op["t1"] >= latest_start]
        outcomes = {None if op["op"] == "delete" else (op["value"], op["region"], op["ts"]) for op in candidates}
        if len(outcomes) == 1:
            expected[key] = outcomes.pop()
        else:
            ambiguous[key] = outcomes
    return expected, ambiguous


def wait_for_quiescence(regions, admin_url, timeout=180):
    clients = {r: dynamodb(ready["dynamodb"], r) for r, ready in regions.items()}
    deadline = time.monotonic() + timeout
    stable = 0
    snapshots = None
    while time.monotonic() < deadline:
        try:
            status = get_json(admin_url() + "/status")
        except OSError:  # a replicator restarting on a loaded machine: ask again
            time.sleep(0.3)
            continue
        idle = all(p["backlog"] == 0 for p in status["pairs"]) and not status["backfill_pending"]
        snapshots = {r: contents(c) for r, c in clients.items()}
        same = all(s == snapshots[REGIONS[0]] for s in snapshots.values())
        stable = stable + 1 if (idle and same) else 0
        if stable >= 3:
            return snapshots
        time.sleep(0.3)
    raise AssertionError(
        f"no quiescence within {timeout}s: sizes {[len(s) for s in snapshots.values()]}, status {status}"
    )


def assert_converged_to_winner(snapshots, history):
    expected, ambiguous = expected_state(history)
    reference = snapshots[REGIONS[0]]
    for region, snap in snapshots.items():
        assert snap == reference, f"{region} differs from {REGIONS[0]}"
    wrong = []
    for key in KEYS:
        got = reference.get(key)
        if key in ambiguous:
            if got not in ambiguous[key]:
                wrong.append((key, ambiguous[key], got))
        elif got != expected.get(key):
            wrong.append((key, expected.get(key), got))
    if wrong:  # every operation on the first wrong key, in call order: what a reader needs to find the race
        ops = sorted((h for h in history if h["key"] == wrong[0][0]), key=lambda h: h["t0"])
        raise AssertionError(f"{len(wrong)} keys differ from the LWW winner, e.g. {wrong[:3]}; {wrong[0][0]}: {ops}")
    return len(ambiguous)


def test_convergence_of_concurrent_puts_and_deletes_in_three_regions(clean_tables, replicator):
    # One client's clock runs 300 ms slow: its writtenAt says so, and decides nothing (the regions' versions do).
    history = run_writers(clean_tables, clients=8, ops=150, skews={7: -300})
    assert len(history) >= 1000 * 0.9  # a few deletes of missing keys are no-ops
    assert sum(h["op"] == "delete" for h in history) > 100
    snapshots = wait_for_quiescence(clean_tables, lambda: replicator["process"].ready["admin"])
    ambiguous = assert_converged_to_winner(snapshots, history)
    latency = get_json(replicator["process"].ready["admin"] + "/replication-latency")
    assert len(latency["pairs"]) == 6 and all(p["count"] > 0 for p in latency["pairs"])
    print(f"\nops={len(history)} keys_ambiguous={ambiguous} present={len(snapshots[REGIONS[0]])}")
    for p in latency["pairs"]:
        print(f"  {p['source']} -> {p['destination']}: n={p['count']} p50={p['p50_ms']} p99={p['p99_ms']} ms")


def test_isolation_pause_write_elsewhere_resume_catches_up(clean_tables, replicator):
    admin = replicator["process"].ready["admin"]
    isolated = "ap-northeast-1"
    post_json(admin + "/pause", {"region": isolated})
    history = run_writers(clean_tables, clients=8, ops=80, write_regions=("us-west-2", "eu-central-1"))
    time.sleep(0.5)
    isolated_client = dynamodb(clean_tables[isolated]["dynamodb"], isolated)
    assert contents(isolated_client) == {}, "a paused region received writes"
    status = get_json(admin + "/status")
    assert status["paused"] == [isolated]
    assert sum(p["backlog"] for p in status["pairs"] if p["destination"] == isolated) > 0
    post_json(admin + "/resume", {"region": isolated})
    snapshots = wait_for_quiescence(clean_tables, lambda: admin)
    assert len(snapshots[isolated]) > 0
    assert_converged_to_winner(snapshots, history)


def test_pause_survives_a_replicator_restart(clean_tables, replicator):
    admin = replicator["process"].ready["admin"]
    post_json(admin + "/pause", {"region": "eu-central-1"})
    replicator["process"].stop()
    process = replicator["start"]()
    assert get_json(process.ready["admin"] + "/status")["paused"] == ["eu-central-1"]
    post_json(process.ready["admin"] + "/resume", {"region": "eu-central-1"})


def test_kill_9_mid_run_and_restart_loses_nothing(clean_tables, replicator):
    done = [0]
    lock = threading.Lock()
    crash = threading.Event()
    crashed = threading.Event()
    kills = []

    def progress():
        with lock:
            done[0] += 1
            trigger = done[0] in (300, 700)
        if trigger:  # kill -9 twice while the writers write; this writer waits until the kill is done
            crashed.clear()
            crash.set()
            crashed.wait(timeout=60)

    restarter_stop = threading.Event()

    crasher_errors = []

    def crasher():
        # One thread kills and restarts, in sequence, so there is never more than one replicator.
        while not restarter_stop.is_set():
            if crash.wait(0.05):
                crash.clear()
                replicator["process"].kill()  # SIGKILL: no chance to save anything
                kills.append(done[0])
                crashed.set()
                time.sleep(0.3)
                try:
                    replicator["start"]()
                except Exception as error:  # noqa: BLE001 - reported by the assertion below
                    crasher_errors.append(repr(error))

    thread = threading.Thread(target=crasher, daemon=True)
    thread.start()
    history = run_writers(clean_tables, clients=8, ops=150, skews={3: -200}, progress=progress)
    restarter_stop.set()
    thread.join(timeout=60)
    assert not crasher_errors, crasher_errors
    assert len(kills) == 2 and all(kill < 1200 for kill in kills), kills
    snapshots = wait_for_quiescence(clean_tables, lambda: replicator["process"].ready["admin"])
    assert_converged_to_winner(snapshots, history)


def test_stream_records_stay_after_the_replicator_read_them(clean_tables, replicator):
    """The replicator's checkpoints no longer trim anything: every consumer reads the records for 24 hours."""
    history = run_writers(clean_tables, clients=4, ops=50)
    wait_for_quiescence(clean_tables, lambda: replicator["process"].ready["admin"])
    assert history
    time.sleep(TRIM_INTERVAL_S + 1.5)  # a housekeeping round has sent every checkpoint
    memory = {r: get_json(ready["admin"] + "/__admin/stream/memory") for r, ready in clean_tables.items()}
    # Each acknowledged write left a record in its own region, and each is replicated as a record elsewhere.
    assert sum(m["records_stored"] for m in memory.values()) >= len(history), memory
    assert all(m["records_stored"] > 0 for m in memory.values()), memory

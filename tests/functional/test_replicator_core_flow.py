"""The replicator in-process against a real moto server on 127.0.0.1 (one server; tables separated by region)."""

import json
import threading
import time
import urllib.request

import boto3
import pytest
from moto_support import moto_server

from backend.local.replication.admin import AdminServer
from backend.local.replication.decisions import REPLICA_DELETE_MARK
from backend.local.replication.replicator import Replicator
from backend.store import table_definition

REGIONS = ("us-west-2", "eu-central-1", "ap-northeast-1")
TABLE = "keyvalues"


@pytest.fixture(scope="module")
def moto_url():

    with moto_server() as url:
        yield url


def client(url, region):
    return boto3.client(
        "dynamodb", region_name=region, endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def tables(moto_url):
    clients = {region: client(moto_url, region) for region in REGIONS}
    for c in clients.values():
        c.create_table(**table_definition(TABLE))
    yield clients
    for c in clients.values():
        c.delete_table(TableName=TABLE)


@pytest.fixture
def make_replicator(moto_url, tmp_path):
    started = []

    def make(delay=0, state_dir=None):
        config = {
            "table": TABLE,
            "regions": {region: moto_url for region in REGIONS},
            "state_dir": str(state_dir or tmp_path / "state"),
            "network": "none",
            "delay": delay,
            "poll_interval_ms": 10,
        }
        replicator = Replicator(config)
        replicator.start()
        started.append(replicator)
        return replicator

    yield make
    for replicator in started:
        if not replicator.stopping.is_set():
            replicator.stop()


def put(c, key, value, region, ts):
    item = {"key": {"S": key}, "value": {"S": value}, "region": {"S": region}, "writtenAt": {"N": str(ts)}}
    c.put_item(TableName=TABLE, Item=item)


def get(c, key):
    item = c.get_item(TableName=TABLE, Key={"key": {"S": key}}).get("Item")
    return None if item is None else (item["value"]["S"], item["region"]["S"], int(item["writtenAt"]["N"]))


def snapshot(c):
    items = c.scan(TableName=TABLE)["Items"]
    return sorted((i["key"]["S"], i["value"]["S"], i["region"]["S"], i["writtenAt"]["N"]) for i in items)


def wait_until(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def converged(tables):
    snaps = [snapshot(c) for c in tables.values()]
    return all(s == snaps[0] for s in snaps)


def now_ms():
    return int(time.time() * 1000)


def test_a_put_reaches_every_region_with_its_origin(tables, make_replicator):
    make_replicator()
    ts = now_ms()
    put(tables["us-west-2"], "k1", "hello", "us-west-2", ts)
    for region in ("eu-central-1", "ap-northeast-1"):
        assert wait_until(lambda r=region: get(tables[r], "k1") is not None)
        assert get(tables[region], "k1") == ("hello", "us-west-2", ts)


def test_a_delete_reaches_every_region_and_nothing_echoes(tables, make_replicator, moto_url):
    replicator = make_replicator()
    put(tables["eu-central-1"], "k", "v", "eu-central-1", now_ms())
    assert wait_until(lambda: all(get(c, "k") for c in tables.values()))
    tables["ap-northeast-1"].delete_item(TableName=TABLE, Key={"key": {"S": "k"}})
    assert wait_until(lambda: all(get(c, "k") is None for c in tables.values()))
    time.sleep(0.5)
    counts = {r: _stream_length(moto_url, r) for r in REGIONS}
    time.sleep(0.5)
    assert {r: _stream_length(moto_url, r) for r in REGIONS} == counts, "records keep coming: an echo"
    # one put and one delete everywhere; a replicated delete also marks the item first (one MODIFY)
    assert counts == {"eu-central-1": 3, "ap-northeast-1": 2, "us-west-2": 3}
    assert replicator.status()["tombstones"] == 1


def _stream_length(url, region):
    streams = boto3.client(
        "dynamodbstreams",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    arn = client(url, region).describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    return len(streams.get_records(ShardIterator=it)["Records"])


def test_concurrent_writes_converge_to_the_last_writer(tables, make_replicator):
    make_replicator()
    ts = now_ms()
    put(tables["us-west-2"], "c", "west", "us-west-2", ts)
    put(tables["eu-central-1"], "c", "central", "eu-central-1", ts + 5)
    put(tables["ap-northeast-1"], "c", "tokyo", "ap-northeast-1", ts - 5)
    assert wait_until(
        lambda: all(get(c, "c") == ("central", "eu-central-1", ts + 5) for c in tables.values())
    )


def test_equal_timestamps_tie_break_on_region(tables, make_replicator):
    make_replicator()
    ts = now_ms()
    put(tables["us-west-2"], "t", "west", "us-west-2", ts)
    put(tables["eu-central-1"], "t", "central", "eu-central-1", ts)
    assert wait_until(lambda: all(get(c, "t") == ("west", "us-west-2", ts) for c in tables.values()))


def test_a_local_write_with_a_slow_clock_is_repaired(tables, make_replicator):
    make_replicator()
    ts = now_ms()
    put(tables["us-west-2"], "s", "new", "us-west-2", ts)
    assert wait_until(lambda: get(tables["eu-central-1"], "s") is not None)
    put(
        tables["eu-central-1"], "s", "old", "eu-central-1", ts - 10_000
    )  # unconditional, as the handler writes
    assert wait_until(lambda: all(get(c, "s") == ("new", "us-west-2", ts) for c in tables.values()))
    time.sleep(0.3)
    assert all(get(c, "s") == ("new", "us-west-2", ts) for c in tables.values())


def test_a_delayed_older_put_does_not_resurrect_a_deleted_key(tables, make_replicator):
    replicator = make_replicator(delay=400)
    ts = now_ms()
    put(tables["us-west-2"], "d", "v", "us-west-2", ts - 1000)
    put(tables["eu-central-1"], "d", "v2", "eu-central-1", ts - 500)
    tables["eu-central-1"].delete_item(TableName=TABLE, Key={"key": {"S": "d"}})
    assert wait_until(lambda: replicator.status()["tombstones"] == 1)
    time.sleep(1.0)
    assert wait_until(lambda: all(get(c, "d") is None for c in tables.values()))


def test_pause_queues_and_resume_catches_up(tables, make_replicator):
    replicator = make_replicator()
    replicator.pause("ap-northeast-1")
    for i in range(20):
        put(tables["us-west-2"], f"p{i}", str(i), "us-west-2", now_ms())
    assert wait_until(lambda: len(snapshot(tables["eu-central-1"])) == 20)
    time.sleep(0.3)
    assert snapshot(tables["ap-northeast-1"]) == []
    backlog = {(p["source"], p["destination"]): p["backlog"] for p in replicator.status()["pairs"]}
    assert backlog[("us-west-2", "ap-northeast-1")] == 20
    replicator.resume("ap-northeast-1")
    assert wait_until(lambda: converged(tables) and len(snapshot(tables["ap-northeast-1"])) == 20)


def test_delay_is_honoured(tables, make_replicator):
    replicator = make_replicator(delay=300)
    start = time.monotonic()
    put(tables["us-west-2"], "late", "v", "us-west-2", now_ms())
    assert wait_until(lambda: get(tables["eu-central-1"], "late") is not None, timeout=5)
    assert time.monotonic() - start >= 0.29

    def pair():
        return next(
            p
            for p in replicator.status()["pairs"]
            if (p["source"], p["destination"]) == ("us-west-2", "eu-central-1")
        )

    # The sample is recorded once the apply call has returned, a moment after the item is visible.
    assert wait_until(lambda: pair()["p50_ms"] is not None, timeout=5)
    assert pair()["p50_ms"] >= 300


def test_restart_resumes_from_the_checkpoint_without_replaying(tables, make_replicator, tmp_path):
    first = make_replicator(state_dir=tmp_path / "s")
    put(tables["us-west-2"], "r1", "v", "us-west-2", now_ms())
    assert wait_until(lambda: converged(tables) and get(tables["eu-central-1"], "r1"))
    time.sleep(0.4)  # a state save
    first.stop()
    state = json.loads((tmp_path / "s" / "replicator-state.json").read_text())
    assert state["sources"]["us-west-2"]["checkpoints"]["eu-central-1"] is not None
    put(tables["us-west-2"], "r2", "v", "us-west-2", now_ms())
    second = make_replicator(state_dir=tmp_path / "s")
    assert wait_until(lambda: converged(tables) and get(tables["ap-northeast-1"], "r2"))
    time.sleep(0.3)
    applied = sum(p["count"] for p in second.status()["pairs"])
    assert applied == 2  # r2 into two regions; r1 was not applied again


def test_replicated_deletes_leave_no_marks(tables, make_replicator):
    make_replicator()
    put(tables["us-west-2"], "m", "v", "us-west-2", now_ms())
    assert wait_until(lambda: all(get(c, "m") for c in tables.values()))
    tables["us-west-2"].delete_item(TableName=TABLE, Key={"key": {"S": "m"}})
    assert wait_until(lambda: all(get(c, "m") is None for c in tables.values()))
    for c in tables.values():
        assert all(REPLICA_DELETE_MARK not in i for i in c.scan(TableName=TABLE)["Items"])


def _call(url, method, path, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_admin_api_controls_and_rejects_bad_input(tables, make_replicator):
    replicator = make_replicator()
    admin = AdminServer(replicator)
    admin.start()
    try:
        url = admin.address
        assert url.startswith("http://127.0.0.1:")
        assert _call(url, "POST", "/pause", {"region": "eu-central-1"}) == (200, {"paused": ["eu-central-1"]})
        assert _call(url, "GET", "/status")[1]["paused"] == ["eu-central-1"]
        assert _call(url, "POST", "/resume", {"region": "eu-central-1"}) == (200, {"paused": []})
        assert _call(url, "POST", "/delay", {"ms": 250}) == (200, {"delay_override_ms": 250})
        assert replicator.delay_ms("us-west-2", "eu-central-1") == 250
        assert _call(url, "POST", "/delay", {"ms": None})[0] == 200
        assert _call(url, "POST", "/network", {"mode": "none"}) == (200, {"network": "none"})
        assert _call(url, "GET", "/replication-latency")[1]["unit"] == "Milliseconds"
        assert _call(url, "POST", "/reset", {}) == (200, {"reset": True})
        for path, body in [
            ("/pause", {"region": "mars-1"}),
            ("/pause", {}),
            ("/pause", b"{not json"),
            ("/pause", b"[1]"),
            ("/delay", {"ms": -1}),
            ("/delay", {"ms": "5"}),
            ("/delay", {}),
            ("/network", {"mode": "fast"}),
        ]:
            status, answer = _call(url, "POST", path, body)
            assert status == 400 and answer["error"], (path, body)
        assert _call(url, "GET", "/nope")[0] == 404
        assert _call(url, "GET", "/pause")[0] == 405
    finally:
        admin.stop()


def test_a_recreated_table_is_backfilled_from_the_other_regions(tables, make_replicator):
    replicator = make_replicator()
    for i in range(30):
        put(tables[REGIONS[i % 3]], f"b{i}", str(i), REGIONS[i % 3], now_ms())
    assert wait_until(lambda: converged(tables) and len(snapshot(tables["us-west-2"])) == 30)
    # The region process restarted: moto keeps nothing, so its table comes back empty with a new stream.
    tables["ap-northeast-1"].delete_table(TableName=TABLE)
    tables["ap-northeast-1"].create_table(**table_definition(TABLE))
    assert wait_until(lambda: converged(tables) and len(snapshot(tables["ap-northeast-1"])) == 30, timeout=20)
    assert wait_until(lambda: replicator.status()["backfill_pending"] == [])
    # and the recreated region replicates its own new writes again
    put(tables["ap-northeast-1"], "after", "v", "ap-northeast-1", now_ms())
    assert wait_until(lambda: all(get(c, "after") for c in tables.values()))


def test_a_reset_recreating_tables_does_not_backfill(tables, make_replicator):
    replicator = make_replicator()
    put(tables["us-west-2"], "x", "v", "us-west-2", now_ms())
    assert wait_until(lambda: converged(tables) and get(tables["eu-central-1"], "x"))
    replicator.reset()
    for c in tables.values():
        c.delete_table(TableName=TABLE)
        c.create_table(**table_definition(TABLE))
    replicator.reset()
    time.sleep(1.0)
    assert all(snapshot(c) == [] for c in tables.values())
    put(tables["eu-central-1"], "y", "v", "eu-central-1", now_ms())
    assert wait_until(lambda: all(get(c, "y") for c in tables.values()))
    assert all(len(snapshot(c)) == 1 for c in tables.values())


def test_lost_iterators_and_trimmed_streams_are_survived(tables, make_replicator):
    """moto answers a freed iterator with an HTML 500: the replicator re-seeks from its checkpoint."""
    from backend.local.dynamodb import streams as stream_janitor

    replicator = make_replicator()
    stop = threading.Event()

    def sweep():
        while not stop.is_set():
            for region in REGIONS:
                stream_janitor.free_iterators(region, max_age_s=0.0)
            time.sleep(0.01)

    sweeper = threading.Thread(target=sweep, daemon=True)
    sweeper.start()
    try:
        for i in range(40):
            put(tables[REGIONS[i % 3]], f"i{i}", str(i), REGIONS[i % 3], now_ms())
            time.sleep(0.01)
        assert wait_until(lambda: converged(tables) and len(snapshot(tables["us-west-2"])) == 40, timeout=30)
        assert sum(replicator.status()["stream_reseeks"].values()) > 0  # the 500s really happened
    finally:
        stop.set()
        sweeper.join(timeout=5)


class _ClientDeletesRightAfterTheMark:
    """The region's real client, except that right after the replicator marks an item for a replicated delete, a
    client of the region deletes that item (the race the convergence test hit about once in ten runs)."""

    def __init__(self, real, local_client):
        self.real, self.local_client = real, local_client
        self.deleted_at: int | None = None

    def __getattr__(self, name):
        return getattr(self.real, name)

    def update_item(self, **kwargs):
        answer = self.real.update_item(**kwargs)
        if self.deleted_at is None and "replicaDelete" in str(kwargs.get("ExpressionAttributeNames")):
            time.sleep(0.01)  # so the client's delete is clearly later than the delete being replicated
            self.deleted_at = now_ms()
            self.local_client.delete_item(TableName=TABLE, Key={"key": {"S": kwargs["Key"]["key"]["S"]}})
        return answer


def test_a_client_delete_between_the_mark_and_the_replicated_delete_keeps_its_version(tables, make_replicator):
    replicator = make_replicator()
    put(tables["us-west-2"], "r", "v", "us-west-2", now_ms())
    assert wait_until(lambda: all(get(c, "r") for c in tables.values()))
    racing = _ClientDeletesRightAfterTheMark(replicator.clients["eu-central-1"].dynamodb, tables["eu-central-1"])
    replicator.clients["eu-central-1"].dynamodb = racing

    tables["us-west-2"].delete_item(TableName=TABLE, Key={"key": {"S": "r"}})
    first_delete_done = now_ms()
    assert wait_until(lambda: racing.deleted_at is not None and all(get(c, "r") is None for c in tables.values()))
    replicator.clients["eu-central-1"].dynamodb = racing.real
    # A put older than the client's delete but newer than the replicated one: the client's delete must win.
    between = (first_delete_done + racing.deleted_at) // 2
    assert first_delete_done < between < racing.deleted_at
    put(tables["ap-northeast-1"], "r", "stale", "ap-northeast-1", between)
    assert wait_until(lambda: all(get(c, "r") is None for c in tables.values()))
    time.sleep(0.5)  # and it stays deleted: no region brings it back
    assert all(get(c, "r") is None for c in tables.values())
    assert all(REPLICA_DELETE_MARK not in i for c in tables.values() for i in c.scan(TableName=TABLE)["Items"])

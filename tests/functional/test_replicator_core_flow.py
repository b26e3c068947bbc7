"""The replicator in-process against real moto on 127.0.0.1: clients write through moto's server (tables separated
by region), the replicator goes through the regions' door (``tests/door_support.py``), as in the local cloud."""

import json
import threading
import time
import urllib.request

import boto3
import pytest
from door_support import door_server
from moto_support import moto_server

from backend.local.dynamodb import versions
from backend.local.replication.admin import AdminServer
from backend.local.replication.replicator import Replicator
from backend.store import table_definition

REGIONS = ("us-west-2", "eu-central-1", "ap-northeast-1")
TABLE = "keyvalues"


@pytest.fixture(scope="module")
def moto_url():
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def door_url():
    with door_server() as url:
        yield url


@pytest.fixture(autouse=True)
def real_clock():
    yield
    versions.set_clock(lambda: time.time_ns() // 1000)  # a test may have moved it


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
def make_replicator(door_url, tmp_path):
    started = []

    def make(delay=0, state_dir=None):
        config = {
            "table": TABLE,
            "regions": {region: f"{door_url}/{region}" for region in REGIONS},
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
    make_replicator()
    put(tables["eu-central-1"], "k", "v", "eu-central-1", now_ms())
    assert wait_until(lambda: all(get(c, "k") for c in tables.values()))
    tables["ap-northeast-1"].delete_item(TableName=TABLE, Key={"key": {"S": "k"}})
    assert wait_until(lambda: all(get(c, "k") is None for c in tables.values()))
    time.sleep(0.5)
    counts = {r: _stream_length(moto_url, r) for r in REGIONS}
    time.sleep(0.5)
    assert {r: _stream_length(moto_url, r) for r in REGIONS} == counts, "records keep coming: an echo"
    assert counts == {r: 2 for r in REGIONS}  # one put and one delete everywhere, nothing else


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
    ts = now_ms()
    put(tables["us-west-2"], "c", "west", "us-west-2", ts)
    put(tables["eu-central-1"], "c", "central", "eu-central-1", ts + 5)
    put(tables["ap-northeast-1"], "c", "tokyo", "ap-northeast-1", ts - 5)  # writtenAt is only an attribute
    make_replicator()  # all three writes happened before any replicated: the hidden versions decide
    assert wait_until(lambda: all(get(c, "c") == ("tokyo", "ap-northeast-1", ts - 5) for c in tables.values()))


def test_equal_hidden_timestamps_tie_break_on_region(tables, make_replicator):
    versions.set_clock(lambda: 1_764_000_000_000_000)  # every region stamps the same microsecond
    put(tables["eu-central-1"], "t", "central", "eu-central-1", now_ms())
    put(tables["us-west-2"], "t", "west", "us-west-2", now_ms())
    put(tables["ap-northeast-1"], "t", "tokyo", "ap-northeast-1", now_ms())
    make_replicator()
    assert wait_until(lambda: all(get(c, "t")[0] == "west" for c in tables.values()))  # "us-west-2" sorts last


def test_a_region_whose_clock_runs_behind_still_wins_over_what_it_overwrote(tables, make_replicator):
    make_replicator()
    put(tables["us-west-2"], "s", "new", "us-west-2", now_ms())
    assert wait_until(lambda: get(tables["eu-central-1"], "s") is not None)
    versions.set_clock(lambda: time.time_ns() // 1000 - 10_000_000)  # 10 s behind
    put(tables["eu-central-1"], "s", "later", "eu-central-1", now_ms())
    assert wait_until(lambda: all(get(c, "s")[0] == "later" for c in tables.values()))
    time.sleep(0.3)
    assert all(get(c, "s")[0] == "later" for c in tables.values())


def test_a_delayed_older_put_does_not_resurrect_a_deleted_key(tables, make_replicator):
    make_replicator(delay=400)
    ts = now_ms()
    put(tables["us-west-2"], "d", "v", "us-west-2", ts - 1000)
    put(tables["eu-central-1"], "d", "v2", "eu-central-1", ts - 500)
    tables["eu-central-1"].delete_item(TableName=TABLE, Key={"key": {"S": "d"}})
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


def test_writes_of_any_client_and_any_operation_converge(tables, make_replicator):
    """No app attributes, updates of items born elsewhere, batches and transactions: all replicate."""
    make_replicator()
    west, central, tokyo = (tables[r] for r in ("us-west-2", "eu-central-1", "ap-northeast-1"))
    tokyo.put_item(TableName=TABLE, Item={"key": {"S": "plain"}, "n": {"N": "1"}, "tags": {"SS": ["a"]}})
    assert wait_until(lambda: all(c.get_item(TableName=TABLE, Key={"key": {"S": "plain"}}).get("Item")
                                  for c in tables.values()))  # fmt: skip
    central.update_item(TableName=TABLE, Key={"key": {"S": "plain"}}, UpdateExpression="SET colour = :c ADD n :one",
                        ExpressionAttributeValues={":c": {"S": "red"}, ":one": {"N": "1"}})  # fmt: skip
    assert wait_until(lambda: item_of(west, "plain").get("colour") == {"S": "red"})
    west.update_item(TableName=TABLE, Key={"key": {"S": "plain"}}, UpdateExpression="REMOVE tags")
    west.batch_write_item(RequestItems={TABLE: [
        {"PutRequest": {"Item": {"key": {"S": f"batch{n}"}, "n": {"N": str(n)}}}} for n in range(3)
    ]})  # fmt: skip
    # Deleting an item a region does not hold yet changes nothing there, and replicates nothing (as on AWS).
    assert wait_until(lambda: item_of(tokyo, "batch0"))
    tokyo.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {"key": {"S": "tx"}, "n": {"N": "7"}}}},
        {"Delete": {"TableName": TABLE, "Key": {"key": {"S": "batch0"}}}},
    ])  # fmt: skip
    expected = {"plain": {"key": {"S": "plain"}, "n": {"N": "2"}, "colour": {"S": "red"}},
                "batch1": {"key": {"S": "batch1"}, "n": {"N": "1"}}, "batch2": {"key": {"S": "batch2"}, "n": {"N": "2"}},
                "tx": {"key": {"S": "tx"}, "n": {"N": "7"}}}  # fmt: skip
    assert wait_until(lambda: all(everything(c) == expected for c in tables.values())), {
        region: everything(c) for region, c in tables.items()
    }
    for c in tables.values():  # a failed condition writes nothing, so replicates nothing
        with pytest.raises(c.exceptions.ConditionalCheckFailedException):
            c.put_item(TableName=TABLE, Item={"key": {"S": "tx"}}, ConditionExpression="attribute_not_exists(#k)",
                       ExpressionAttributeNames={"#k": "key"})  # fmt: skip
    time.sleep(0.3)
    assert all(everything(c) == expected for c in tables.values())


def item_of(c, key):
    return c.get_item(TableName=TABLE, Key={"key": {"S": key}}).get("Item") or {}


def everything(c):
    return {item["key"]["S"]: item for item in c.scan(TableName=TABLE)["Items"]}


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
    """A freed iterator is refused by the door (a 400): the replicator re-seeks from its checkpoint."""
    from backend.local.dynamodb import patches

    replicator = make_replicator()
    stop = threading.Event()

    def sweep():
        while not stop.is_set():
            for region in REGIONS:
                patches.shard_iterators(region).clear()  # every iterator a reader holds right now is gone
            time.sleep(0.2)  # and the next 200 ms let a re-seek and a few reads through

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

"""The stream janitor on moto's in-process state, read over moto's HTTP server exactly as the replicator reads it
(what records are kept and for how long: tests/functional/test_stream_retention.py)."""

import gc
import time

import boto3
import pytest
from moto_support import moto_server

from backend.local.dynamodb import patches
from backend.local.dynamodb import streams as janitor
from backend.store import table_definition

TABLE = "janitor"
# moto's state is process-wide: each test gets a region of its own so iterators of one don't count in another.
FREE_REGIONS = iter(["eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "ca-central-1", "sa-east-1"])
REGION = "eu-west-1"


@pytest.fixture
def stream(monkeypatch):
    monkeypatch.setitem(globals(), "REGION", next(FREE_REGIONS))
    patches.install()  # as a region process does at startup
    with moto_server() as url:
        kwargs = {
            "region_name": REGION,
            "endpoint_url": url,
            "aws_access_key_id": "x",
            "aws_secret_access_key": "x",
        }
        dynamodb = boto3.client("dynamodb", **kwargs)
        streams = boto3.client("dynamodbstreams", **kwargs)
        arn = dynamodb.create_table(**table_definition(TABLE))["TableDescription"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        yield dynamodb, streams, arn, shard
        dynamodb.delete_table(TableName=TABLE)


def put(dynamodb, n):
    dynamodb.put_item(TableName=TABLE, Item={"key": {"S": f"k{n}"}, "value": {"S": str(n)}})


def read(streams, arn, shard, **position):
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **position)["ShardIterator"]
    return streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]


def test_the_replicators_checkpoint_trims_nothing_every_consumer_reads_every_record(stream):
    """The replicator having done records removes none of them (AWS keeps them 24 h for every consumer)."""
    dynamodb, streams, arn, shard = stream
    for n in range(100):
        put(dynamodb, n)
    records = read(streams, arn, shard, ShardIteratorType="TRIM_HORIZON")
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]

    result = janitor.trim_and_free(REGION, TABLE, str(sequence[-1]), stream_arn=arn)

    assert result["trimmed"] == 0 and result["records_stored"] == 100 and result["stale_stream"] is False
    again = read(streams, arn, shard, ShardIteratorType="TRIM_HORIZON")
    assert [r["dynamodb"]["NewImage"]["value"]["S"] for r in again] == [str(n) for n in range(100)]
    after = read(streams, arn, shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=str(sequence[49]))
    assert [r["dynamodb"]["NewImage"]["value"]["S"] for r in after] == [str(n) for n in range(50, 100)]
    put(dynamodb, 100)  # new records continue the numbering
    latest = read(
        streams, arn, shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=str(sequence[-1])
    )
    assert [int(r["dynamodb"]["SequenceNumber"]) for r in latest] == [sequence[-1] + 1]


def test_iterators_are_freed_after_their_maximum_age(stream):
    _, streams, arn, shard = stream
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    for _ in range(300):  # idle polling, as the replicator does between writes
        iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
    assert janitor.stream_memory(REGION, TABLE)["iterators_stored"] >= 300
    assert janitor.free_iterators(REGION, max_age_s=10, now=1000.0) == 0  # first sight: only stamped
    freed = janitor.free_iterators(REGION, max_age_s=10, now=1011.0)
    assert freed >= 300
    assert janitor.stream_memory(REGION, TABLE)["iterators_stored"] == 0
    # An iterator handed out after the sweep keeps working.
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    assert streams.get_records(ShardIterator=iterator)["Records"] == []


def test_memory_stays_bounded_over_many_polls_with_the_janitor(stream):
    dynamodb, streams, arn, shard = stream
    from moto.dynamodbstreams.models import ShardIterator

    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    clock = [0.0]
    counts = []
    for round_number in range(6):
        for n in range(200):
            if n % 20 == 0:
                put(dynamodb, round_number * 1000 + n)
            answer = streams.get_records(ShardIterator=iterator)
            iterator = answer["NextShardIterator"]
            for record in answer["Records"]:
                last = record["dynamodb"]["SequenceNumber"]
        clock[0] += 30
        janitor.trim_and_free(REGION, TABLE, last, iterator_max_age_s=45, now=clock[0])
        gc.collect()
        counts.append(sum(isinstance(o, ShardIterator) for o in gc.get_objects()))
    memory = janitor.stream_memory(REGION, TABLE)
    assert memory["records_stored"] == 6 * 10  # kept: 24 hours for every consumer, far below the cap
    assert memory["iterators_stored"] <= 2 * 200 + 2
    assert max(counts[2:]) <= counts[1] + 5, counts  # flat after warm-up, not growing with polls


def test_the_trim_request_is_validated():
    assert janitor.handle_trim_request(REGION, TABLE, b"{bad")[0] == 400
    assert janitor.handle_trim_request(REGION, TABLE, b"[1]")[0] == 400
    assert janitor.handle_trim_request(REGION, TABLE, b'{"upto": "12a"}')[0] == 400
    assert janitor.handle_trim_request(REGION, TABLE, b'{"upto": true}')[0] == 400
    status, answer = janitor.handle_trim_request(REGION, "no-such-table", b'{"upto": "5"}')
    assert status == 200 and answer["trimmed"] == 0


def test_a_checkpoint_of_a_previous_table_guards_every_record(stream):
    dynamodb, streams, arn, shard = stream
    for n in range(10):
        put(dynamodb, n)
    last = read(streams, arn, shard, ShardIteratorType="TRIM_HORIZON")[-1]["dynamodb"]["SequenceNumber"]
    old_arn = arn.rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    day_later = time.time_ns() // 1000 + 25 * 3600 * 1_000_000
    body = f'{{"upto": "{last}", "stream": "{old_arn}"}}'
    status, answer = janitor.handle_trim_request(REGION, TABLE, body, now_us=day_later)
    assert status == 200 and answer["stale_stream"] is True and answer["trimmed"] == 0
    assert answer["records_stored"] == 10  # older than 24 h, but not done for this stream
    body = f'{{"upto": "{last}", "stream": "{arn}"}}'
    status, answer = janitor.handle_trim_request(REGION, TABLE, body, now_us=day_later)
    assert answer["stale_stream"] is False and answer["trimmed"] == 10
    assert janitor.handle_trim_request(REGION, TABLE, b'{"upto": null, "stream": 5}')[0] == 400


def test_concurrent_writes_get_distinct_sequence_numbers(stream):
    """moto's add() reads len(items) and appends in two steps; the serialized_writes patch's lock makes it one."""
    dynamodb, streams, arn, shard = stream
    import threading

    def writer(n):
        for i in range(40):
            put(dynamodb, n * 1000 + i)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = read(streams, arn, shard, ShardIteratorType="TRIM_HORIZON")
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert len(records) == 240 and len(set(sequence)) == 240
    assert sequence == sorted(sequence)

"""Stream records as a consumer sees them (backend/local/dynamodb/stream_retention.py, stream_reads.py): kept 24 hours
of the region's clock for every consumer, capped per shard (oldest first, never past the replicator's durable
checkpoint), and TrimmedDataAccessException / ExpiredIteratorException as JSON 400s, through moto's server (what
boto3 sees) and through the replicator's in-process door."""

import json
import time

import boto3
import pytest
from botocore.config import Config
from moto_support import moto_server

from backend.local.dynamodb import in_process, patches, stream_retention, versions
from backend.local.dynamodb import streams as janitor
from backend.store import table_definition

TABLE = "retained"
HOUR_US = 3600 * 1_000_000
T0 = 1_800_000_000 * 1_000_000  # a fixed region clock (µs)
# moto's state is process-wide: each test gets regions of its own, so no guard or iterator of one counts in another
FREE_REGIONS = iter(["us-east-2", "ca-central-1", "sa-east-1", "eu-north-1", "ap-south-1", "ap-east-1", "me-south-1"])


@pytest.fixture
def clock():
    now = [T0]
    versions.set_clock(lambda: now[0])
    yield now
    versions.set_clock(lambda: time.time_ns() // 1000)


@pytest.fixture
def stream(clock):
    region = next(FREE_REGIONS)
    patches.install()  # as a region process does at startup
    with moto_server() as url:
        kwargs = {
            "region_name": region,
            "endpoint_url": url,
            "aws_access_key_id": "x",
            "aws_secret_access_key": "x",
            "config": Config(retries={"max_attempts": 1}),
        }
        dynamodb = boto3.client("dynamodb", **kwargs)
        streams = boto3.client("dynamodbstreams", **kwargs)
        arn = dynamodb.create_table(**table_definition(TABLE))["TableDescription"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        yield {"region": region, "dynamodb": dynamodb, "streams": streams, "arn": arn, "shard": shard}
        dynamodb.delete_table(TableName=TABLE)


def put(s, n):
    s["dynamodb"].put_item(TableName=TABLE, Item={"key": {"S": f"k{n}"}, "value": {"S": str(n)}})


def iterator(s, kind, sequence=None):
    extra = {} if sequence is None else {"SequenceNumber": str(sequence)}
    return s["streams"].get_shard_iterator(StreamArn=s["arn"], ShardId=s["shard"], ShardIteratorType=kind, **extra)[
        "ShardIterator"
    ]


def values(s, kind="TRIM_HORIZON", sequence=None):
    records = s["streams"].get_records(ShardIterator=iterator(s, kind, sequence))["Records"]
    return [r["dynamodb"]["NewImage"]["value"]["S"] for r in records]


def sequences(s):
    return [int(r["dynamodb"]["SequenceNumber"]) for r in s["streams"].get_records(
        ShardIterator=iterator(s, "TRIM_HORIZON"))["Records"]]  # fmt: skip


def items(s):
    return patches.stream_shard(s["region"], TABLE).items


def door(s, target, body):
    status, answer = in_process.answer(s["region"], target, json.dumps(body).encode())
    return status, json.loads(answer)


def test_a_record_older_than_24_hours_is_trimmed_and_a_younger_one_is_kept(stream, clock):
    s = stream
    put(s, 0)
    put(s, 1)
    clock[0] = T0 + 12 * HOUR_US
    put(s, 2)
    clock[0] = T0 + 24 * HOUR_US  # exactly 24 h: still kept
    assert janitor.sweep(s["region"]) == 0
    assert values(s) == ["0", "1", "2"]
    clock[0] = T0 + 24 * HOUR_US + 1
    assert janitor.sweep(s["region"]) == 2
    assert values(s) == ["2"]  # TRIM_HORIZON starts at the oldest record kept
    clock[0] = T0 + 36 * HOUR_US + 1
    assert janitor.sweep(s["region"]) == 1 and values(s) == []
    put(s, 3)  # numbering goes on
    assert values(s) == ["3"]


def test_reading_a_trimmed_sequence_number_is_a_trimmed_data_access_exception(stream, clock):
    s = stream
    for n in range(3):
        put(s, n)
    first, second, third = sequences(s)
    early = iterator(s, "TRIM_HORIZON")  # handed out before the trim: its next record goes (AWS's second case)
    clock[0] = T0 + 25 * HOUR_US
    put(s, 3)  # younger: kept
    assert janitor.sweep(s["region"]) == 3
    for kind, sequence in (("AT_SEQUENCE_NUMBER", first), ("AFTER_SEQUENCE_NUMBER", first)):
        with pytest.raises(s["streams"].exceptions.TrimmedDataAccessException) as trimmed:
            iterator(s, kind, sequence)
        assert trimmed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert trimmed.value.response["Error"]["Message"] == "The data you are trying to access has been trimmed."
    with pytest.raises(s["streams"].exceptions.TrimmedDataAccessException):
        s["streams"].get_records(ShardIterator=early)
    assert values(s, "AFTER_SEQUENCE_NUMBER", third) == ["3"]  # right after the last trimmed record: fine
    assert values(s, "AT_SEQUENCE_NUMBER", third + 1) == ["3"]
    # The replicator's door answers the same JSON.
    status, answer = door(
        s,
        "DynamoDBStreams_20120810.GetShardIterator",
        {"StreamArn": s["arn"], "ShardId": s["shard"], "ShardIteratorType": "AT_SEQUENCE_NUMBER",
         "SequenceNumber": str(second)},
    )  # fmt: skip
    assert (status, answer["__type"].rsplit("#", 1)[-1]) == (400, "TrimmedDataAccessException")
    early = iterator(s, "TRIM_HORIZON")
    clock[0] = T0 + 50 * HOUR_US
    janitor.sweep(s["region"])
    status, answer = door(s, "MrkvReplication_20261201.GetRecords", {"ShardIterator": early})
    assert (status, answer["__type"].rsplit("#", 1)[-1]) == (400, "TrimmedDataAccessException")
    assert answer["message"] == "The data you are trying to access has been trimmed."


def test_a_freed_iterator_is_an_expired_iterator_exception_in_json(stream):
    s = stream
    put(s, 0)
    held = iterator(s, "TRIM_HORIZON")
    patches.shard_iterators(s["region"]).clear()  # what the janitor does to old iterators
    with pytest.raises(s["streams"].exceptions.ExpiredIteratorException) as expired:
        s["streams"].get_records(ShardIterator=held)
    assert expired.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    status, answer = door(s, "MrkvReplication_20261201.GetRecords", {"ShardIterator": held})
    assert (status, answer["__type"].rsplit("#", 1)[-1]) == (400, "ExpiredIteratorException")
    with pytest.raises(s["streams"].exceptions.ResourceNotFoundException):
        s["streams"].get_shard_iterator(
            StreamArn=s["arn"], ShardId="shardId-00000000000000000000-nothere", ShardIteratorType="LATEST"
        )
    assert values(s) == ["0"]


def test_the_cap_trims_the_oldest_first_when_no_replicator_guards_the_stream(stream):
    s = stream
    items(s).record_cap = 10
    for n in range(25):
        put(s, n)
    assert items(s).stored() == 10
    assert values(s) == [str(n) for n in range(15, 25)]


def test_the_cap_never_trims_past_the_replicators_durable_checkpoint(stream):
    s = stream
    items(s).record_cap = 10
    janitor.trim_and_free(s["region"], TABLE, None, stream_arn=s["arn"])  # a replicator, nothing done yet
    for n in range(30):
        put(s, n)
    assert items(s).stored() == 30  # the cap yields: every record is owed to the replicator
    sequence = sequences(s)
    answer = janitor.trim_and_free(s["region"], TABLE, str(sequence[14]), stream_arn=s["arn"])  # done 0..14
    assert answer["records_stored"] == 15 and answer["trimmed"] == 15
    assert values(s) == [str(n) for n in range(15, 30)]
    put(s, 30)  # still over the cap, but 15.. are not done: kept
    assert items(s).stored() == 16
    janitor.trim_and_free(s["region"], TABLE, str(sequence[-1]), stream_arn=s["arn"])  # all done
    assert values(s) == [str(n) for n in range(21, 31)]  # the cap, oldest first
    # A checkpoint of another stream (a recreated table) guards everything of this one.
    stale = s["arn"].rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    answer = janitor.trim_and_free(s["region"], TABLE, str(sequence[-1] + 100), stream_arn=stale)
    assert answer["stale_stream"] is True
    for n in range(31, 40):
        put(s, n)
    assert items(s).stored() == 19


def test_the_24_hours_never_trim_past_the_replicators_checkpoint_either(stream, clock):
    s = stream
    for n in range(4):
        put(s, n)
    sequence = sequences(s)
    janitor.trim_and_free(s["region"], TABLE, str(sequence[1]), stream_arn=s["arn"])
    clock[0] = T0 + 48 * HOUR_US
    assert janitor.sweep(s["region"]) == 2
    assert values(s) == ["2", "3"]  # older than 24 h, but the replicator has not done them


def test_the_size_cap_bounds_big_records(stream):
    s = stream
    items(s).size_cap = 20_000
    big = "x" * 4_000
    for n in range(10):
        s["dynamodb"].put_item(TableName=TABLE, Item={"key": {"S": f"k{n}"}, "value": {"S": big}})
    assert 0 < items(s).size_bytes <= 20_000
    assert items(s).stored() == 4  # ~4 KB of SizeBytes each
    assert stream_retention.RECORD_CAP == 4_000 and stream_retention.RETENTION_S == 86_400

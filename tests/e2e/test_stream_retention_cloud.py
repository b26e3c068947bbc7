"""Stream records as a consumer sees them on a running local cloud (docs/FIDELITY.md): a boto3 DynamoDB Streams
consumer reads, seconds later, the very records the replicator already read and replicated (AWS keeps them 24 hours
for every consumer); once the region's clock is a day on, they are trimmed and a read of one answers
TrimmedDataAccessException."""

from __future__ import annotations

import time

import pytest
from cloud_clients import local_client

from backend.local.cloud import LocalCloud
from backend.local.replication.housekeeping import TRIM_INTERVAL_S

pytestmark = pytest.mark.e2e

US, EU = "us-west-2", "eu-central-1"
TABLE = "keyvalues"
N = 20


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    with LocalCloud(
        regions=[US, EU], network="none", endpoints_file=tmp_path_factory.mktemp("cloud") / "endpoints.json"
    ) as local:
        yield local


def _client(cloud, service: str, region: str):
    return local_client(cloud, region, service, retries={"max_attempts": 1})


def _shard(streams):
    arn = streams.list_streams(TableName=TABLE)["Streams"][0]["StreamArn"]
    return arn, streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]


def _read_all(streams) -> list[dict]:
    """Every record from TRIM_HORIZON on, as a consumer pages through them."""
    arn, shard = _shard(streams)
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    iterator, records = iterator["ShardIterator"], []
    while True:
        answer = streams.get_records(ShardIterator=iterator, Limit=100)
        records += answer["Records"]
        if not answer["Records"]:
            return records
        iterator = answer["NextShardIterator"]


def _until(check, timeout_s: float = 20.0):
    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    pytest.fail(f"not true within {timeout_s} s; last: {last!r}")


def _keys(records, prefix="consumer-"):
    return [r["dynamodb"]["Keys"]["key"]["S"] for r in records if r["dynamodb"]["Keys"]["key"]["S"].startswith(prefix)]


def test_a_consumer_reads_the_records_the_replicator_already_read(cloud):
    us, eu = _client(cloud, "dynamodb", US), _client(cloud, "dynamodb", EU)
    for i in range(N):
        us.put_item(TableName=TABLE, Item={"key": {"S": f"consumer-{i}"}, "value": {"S": str(i)}})
    _until(lambda: all("Item" in eu.get_item(TableName=TABLE, Key={"key": {"S": f"consumer-{i}"}}) for i in range(N)))
    # The replicator has read them all; its checkpoint reaches the region within a housekeeping round, after which
    # the region used to drop them.
    time.sleep(TRIM_INTERVAL_S + 1.5)

    records = _read_all(_client(cloud, "dynamodbstreams", US))
    assert _keys(records) == [f"consumer-{i}" for i in range(N)]
    assert {r["eventName"] for r in records} == {"INSERT"} and {r["awsRegion"] for r in records} == {US}
    replicated = _read_all(_client(cloud, "dynamodbstreams", EU))  # the replicas' own records stay too
    assert sorted(_keys(replicated)) == sorted(f"consumer-{i}" for i in range(N))
    assert {r["awsRegion"] for r in replicated} == {EU}


def test_a_day_of_the_regions_clock_later_they_are_trimmed_and_reading_one_is_refused(cloud):
    streams = _client(cloud, "dynamodbstreams", US)
    first = _read_all(streams)[0]["dynamodb"]["SequenceNumber"]
    arn, shard = _shard(streams)
    cloud.control.set_clock_offset(US, 86_400_000)  # the region's clock: a day on, every record is older than 24 h
    try:
        _until(lambda: not _read_all(streams))  # the region's sweep, every few seconds
        with pytest.raises(streams.exceptions.TrimmedDataAccessException) as trimmed:
            streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=first
            )
        assert trimmed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        _client(cloud, "dynamodb", US).put_item(TableName=TABLE, Item={"key": {"S": "consumer-new"}})
        assert _keys(_read_all(streams)) == ["consumer-new"]  # TRIM_HORIZON: the oldest record kept
    finally:
        cloud.control.set_clock_offset(US, 0)

"""The replicator's door to a region's tables (``POST /__admin/dynamodb``, backend/local/dynamodb/in_process.py)
answers what the region's moto server answers, on a real region process: the same items, the same refusals, the
same stream. Only the transport differs."""

import pytest

from backend.local.cloud import LocalCloud
from backend.local.replication.wire import STREAMS, WireClient, WireError

REGION = "eu-west-1"
TABLE = "keyvalues"


@pytest.fixture(scope="module")
def doors():
    with LocalCloud(regions=[REGION], network="none", replicate=False) as cloud:
        door = cloud.region_info[REGION]["admin"] + "/__admin/dynamodb"
        yield door, cloud.endpoints["dynamodb"][REGION]


def item(key, value, ts):
    return {"key": {"S": key}, "value": {"S": value}, "writtenAt": {"N": str(ts)}}


def _refusal(client, key):
    with pytest.raises(client.exceptions.ConditionalCheckFailedException) as refused:
        client.put_item(
            TableName=TABLE,
            Item=item(key, "older", 1),
            ConditionExpression="attribute_not_exists(#k) OR #ts < :ts",
            ExpressionAttributeNames={"#k": "key", "#ts": "writtenAt"},
            ExpressionAttributeValues={":ts": {"N": "1"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    return refused.value.status, refused.value.response["Error"]["Code"], refused.value.response["Item"]


def test_items_and_refusals_are_the_same_through_both_doors(doors):
    door, moto_server = (WireClient(url, REGION) for url in doors)
    door.put_item(TableName=TABLE, Item=item("via-door", "1", 10))
    moto_server.put_item(TableName=TABLE, Item=item("via-server", "2", 20))
    for key, written in (
        ("via-door", item("via-door", "1", 10)),
        ("via-server", item("via-server", "2", 20)),
    ):
        assert (
            door.get_item(TableName=TABLE, Key={"key": {"S": key}})
            == moto_server.get_item(TableName=TABLE, Key={"key": {"S": key}})
            == {"Item": written}
        )
        assert (
            _refusal(door, key)
            == _refusal(moto_server, key)
            == (400, "ConditionalCheckFailedException", written)
        )
    assert door.describe_table(TableName=TABLE)["Table"]["TableArn"].split(":")[3] == REGION


def test_the_stream_reads_the_same_through_both_doors(doors):
    door, moto_server = (WireClient(url, REGION) for url in doors)
    door.put_item(TableName=TABLE, Item=item("streamed", "x", 30))
    door.delete_item(TableName=TABLE, Key={"key": {"S": "streamed"}})
    arn = door.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    read = []
    for url in doors:
        streams = WireClient(url, REGION, STREAMS)
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
        read.append([(r["eventName"], r["dynamodb"]["SequenceNumber"], r["awsRegion"]) for r in records])
    assert read[0] == read[1]
    assert read[0][-2:] == [("INSERT", read[0][-2][1], REGION), ("REMOVE", read[0][-1][1], REGION)]


def test_an_unknown_target_is_refused_as_dynamodb_refuses_it(doors):
    with pytest.raises(WireError) as refused:
        WireClient(doors[0], REGION, target_prefix="Lambda_20150331").call("Invoke", {})
    assert (refused.value.status, refused.value.code) == (400, "UnknownOperationException")

"""The region side of the hidden versions on real moto: every write path stamps a version, the door applies a
replicated change only over an older version, and no client ever sees a version (GetItem, Scan, the stream)."""

import json

import boto3
import pytest
from moto import mock_aws

from backend.local.dynamodb import in_process, patches, replica_door, versions
from backend.store import table_definition

REGION, TABLE = "eu-central-1", "keyvalues"


@pytest.fixture
def dynamodb():
    with mock_aws():
        patches.install()
        replica_door.install()
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(**table_definition(TABLE))
        yield client
    versions.set_clock(lambda: __import__("time").time_ns() // 1000)


def door(operation, **request):
    status, body = in_process.answer(REGION, f"{replica_door.TARGET_PREFIX}.{operation}", json.dumps(request).encode())
    return status, json.loads(body)


def stream_records(client):
    """The stream as a client reads it (moto's answer) and as the replicator reads it (the door)."""
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]

    def streams(operation, **request):
        status, body = in_process.answer(REGION, f"DynamoDBStreams_20120810.{operation}", json.dumps(request).encode())
        assert status == 200, body
        return json.loads(body)

    shard = streams("DescribeStream", StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    first = streams("GetShardIterator", StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    public = streams("GetRecords", ShardIterator=first["ShardIterator"])["Records"]
    again = streams("GetShardIterator", StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    status, hidden = door("GetRecords", ShardIterator=again["ShardIterator"])
    assert status == 200 and len(hidden["Records"]) == len(public)
    return public, hidden["Records"]


def key(name):
    return {"key": {"S": name}}


def test_every_write_path_stamps_a_version_that_only_the_door_shows(dynamodb):
    versions.set_clock(lambda: 1_000_000)
    dynamodb.put_item(TableName=TABLE, Item={**key("a"), "n": {"N": "1"}})
    dynamodb.update_item(TableName=TABLE, Key=key("a"), UpdateExpression="ADD n :one",
                         ExpressionAttributeValues={":one": {"N": "1"}})  # fmt: skip
    dynamodb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": key("b")}}]})
    dynamodb.transact_write_items(TransactItems=[{"Delete": {"TableName": TABLE, "Key": key("b")}}])
    public, hidden = stream_records(dynamodb)
    assert all("mrkv" not in record for record in public)
    assert [r["mrkv"] for r in hidden] == [
        {"version": "1000000:eu-central-1", "replica": False},
        {"version": "1000001:eu-central-1", "replica": False},  # same clock: one µs above what it replaced
        {"version": "1000000:eu-central-1", "replica": False},
        {"version": "1000001:eu-central-1", "replica": False},
    ]
    assert "mrkv" not in json.dumps(dynamodb.scan(TableName=TABLE)["Items"])


def test_the_door_applies_only_newer_versions_and_tags_them_as_replicated(dynamodb):
    versions.set_clock(lambda: 5_000_000)
    dynamodb.put_item(TableName=TABLE, Item={**key("k"), "v": {"S": "local"}})
    older = {"Keys": key("k"), "Item": {**key("k"), "v": {"S": "older"}}, "Version": "4000000:us-west-2"}
    newer = {"Keys": key("k"), "Item": {**key("k"), "v": {"S": "newer"}}, "Version": "6000000:ap-northeast-1"}
    assert door("ApplyChanges", TableName=TABLE, Changes=[older, newer, newer]) == (
        200, {"Applied": [False, True, False], "Errors": [None, None, None]}
    )  # fmt: skip
    assert dynamodb.get_item(TableName=TABLE, Key=key("k"))["Item"]["v"] == {"S": "newer"}
    _, hidden = stream_records(dynamodb)
    assert hidden[-1]["mrkv"] == {"version": "6000000:ap-northeast-1", "replica": True}
    # a local write after it is newer, whatever the local clock says
    dynamodb.put_item(TableName=TABLE, Item={**key("k"), "v": {"S": "mine"}})
    _, hidden = stream_records(dynamodb)
    assert hidden[-1]["mrkv"] == {"version": "6000001:eu-central-1", "replica": False}


def test_a_replicated_delete_leaves_a_tombstone_that_refuses_older_puts(dynamodb):
    now = versions.now_us()  # tombstones older than TOMBSTONE_TTL_S by this region's clock are dropped
    delete = {"Keys": key("gone"), "Item": None, "Version": f"{now}:us-west-2"}
    stale = {"Keys": key("gone"), "Item": {**key("gone"), "v": {"S": "stale"}}, "Version": f"{now - 1}:eu-central-1"}
    assert door("ApplyChanges", TableName=TABLE, Changes=[delete, stale])[1]["Applied"] == [True, False]
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key("gone"))
    status, page = door("ScanVersions", TableName=TABLE)
    assert status == 200 and page["KeyAttributes"] == ["key"]
    assert page["Tombstones"] == [{"Keys": key("gone"), "Version": f"{now}:us-west-2"}]


def test_scan_versions_pairs_each_item_with_its_version(dynamodb):
    versions.set_clock(lambda: 7_000_000)
    for name in ("x", "y", "z"):
        dynamodb.put_item(TableName=TABLE, Item=key(name))
    _, first = door("ScanVersions", TableName=TABLE, Limit=2)
    _, rest = door("ScanVersions", TableName=TABLE, ExclusiveStartKey=first["LastEvaluatedKey"])
    pairs = dict(zip([i["key"]["S"] for i in first["Items"] + rest["Items"]], first["Versions"] + rest["Versions"], strict=True))
    assert pairs == {name: "7000000:eu-central-1" for name in ("x", "y", "z")}
    assert "Tombstones" not in first and rest["Tombstones"] == []


@pytest.mark.parametrize(
    "operation, request_body, code",
    [
        ("ApplyChanges", {"TableName": TABLE}, "ValidationException"),
        ("ApplyChanges", {"TableName": TABLE, "Changes": [{"Keys": key("k"), "Version": "soon"}]}, "ValidationException"),
        ("ApplyChanges", {"TableName": "nope", "Changes": []}, "ResourceNotFoundException"),
        ("GetRecords", {"ShardIterator": "arn:gone"}, "ExpiredIteratorException"),  # as Streams answers it
        ("Teleport", {}, "ValidationException"),
    ],
)
def test_bad_door_requests_get_a_clear_json_error(dynamodb, operation, request_body, code):
    status, answer = door(operation, **request_body)
    assert status == 400 and answer["__type"].endswith(code) and answer["message"]

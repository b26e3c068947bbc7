"""The moto adapter (backend/local/dynamodb): its patches still fit the installed moto, and LocalDynamoDB works.

The first tests fail loudly, naming the patch, when moto is upgraded or changes an internal a patch relies on:
read that patch's ``works_around`` in patches.py against the new moto before touching anything else.
"""

import importlib
import inspect
import re
import socket

import boto3
import moto
import pytest
from moto import mock_aws

from backend.local.dynamodb import LocalDynamoDB, patches
from backend.store import table_definition

RELIANCES = [(patch, reliance) for patch in patches.PATCHES.values() for reliance in patch.relies_on]


def _resolve(target: str):
    """(object, source) of ``module:Qualified.name``; for an attribute set in ``__init__``, (None, class source)."""
    module_name, _, qualified = target.partition(":")
    found = importlib.import_module(module_name)
    parts = qualified.split(".")
    for index, part in enumerate(parts):
        if not hasattr(found, part) and inspect.isclass(found) and index == len(parts) - 1:
            source = inspect.getsource(found)
            assert re.search(rf"self\.{re.escape(part)}\s*[:=]", source), (
                f"{found.__name__} never sets .{part}"
            )
            return None, source
        found = getattr(found, part)
    found = inspect.unwrap(found)
    return found, (inspect.getsource(found) if callable(found) else "")


@pytest.mark.parametrize("patch", patches.PATCHES.values(), ids=lambda patch: patch.name)
def test_each_patch_targets_the_installed_moto_version(patch):
    assert moto.__version__ == patch.moto_version, (
        f"patch {patch.name!r} was written against moto {patch.moto_version}, but moto {moto.__version__} is "
        f"installed. It works around: {patch.works_around} Check that against the new moto, then update the patch "
        "and its moto_version in backend/local/dynamodb/patches.py."
    )


@pytest.mark.parametrize(
    "patch, reliance", RELIANCES, ids=[f"{patch.name}-{reliance.target}" for patch, reliance in RELIANCES]
)
def test_each_moto_internal_a_patch_relies_on_is_there_with_its_shape(patch, reliance):
    where = f"patch {patch.name!r} relies on {reliance.target} ({reliance.shape})"
    try:
        found, source = _resolve(reliance.target)
    except (ImportError, AttributeError, AssertionError) as error:
        pytest.fail(f"{where}, which is gone in moto {moto.__version__}: {error}")
    for text in reliance.source_contains:
        assert text in source, f"{where}: its source no longer contains {text!r} (moto {moto.__version__})"
    if reliance.parameters is not None:
        parameters = tuple(inspect.signature(found).parameters)
        assert parameters == reliance.parameters, f"{where}: its parameters are now {parameters}"


@pytest.fixture
def moto_table(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-west-1")
        client.create_table(**table_definition("shapes"))
        yield client


def test_moto_objects_have_the_types_the_patches_rely_on(moto_table):
    from moto.core.model_instances import model_data
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    moto_table.put_item(TableName="shapes", Item={"key": {"S": "k"}})
    table = patches.table("us-west-1", "shapes")
    assert table is dynamodb_backends[patches.DEFAULT_ACCOUNT_ID]["us-west-1"].tables["shapes"], (
        "stream_offset_list"
    )
    shard = patches.stream_shard("us-west-1", "shapes")
    assert isinstance(shard.items, list) and len(shard.items) == 1, "stream_offset_list: StreamShard.items"
    assert isinstance(shard.starting_sequence_number, int), "stream_offset_list: starting_sequence_number"
    assert isinstance(
        dynamodbstreams_backends[patches.DEFAULT_ACCOUNT_ID]["us-west-1"].shard_iterators, dict
    ), "shard_iterator_freeing: DynamoDBStreamsBackend.shard_iterators"
    assert "Item" in model_data["dynamodb"] and "StreamRecord" in model_data["dynamodb"], (
        "untracked_instances"
    )
    assert isinstance(model_data["dynamodb"]["Item"].instances_tracked, list), "untracked_instances"


def test_install_wraps_each_write_once_and_keeps_the_originals_reachable(moto_table):
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamShard

    patches.install()
    assert patches.install() == 0, "serialized_writes: install() is not idempotent"
    targets = [(DynamoDBBackend, name) for name in patches.WRITE_OPERATIONS] + [(StreamShard, "add")]
    for owner, name in targets:
        chain, function = [], getattr(owner, name)
        while function is not None:  # hidden_versions may wrap StreamShard.add inside or outside the lock's wrapper
            chain.append(function)
            function = getattr(function, "__wrapped__", None)
        # functools.wraps copies the mark outward, so the lock's wrapper is the one whose inner function has none
        locks = [f for f, inner in zip(chain, chain[1:], strict=False) if getattr(f, patches._MARK, False)
                 and not getattr(inner, patches._MARK, False)]  # fmt: skip
        assert len(locks) == 1, f"serialized_writes: {owner.__name__}.{name} wrapped {len(locks)} times"
    assert patches.untrack_moto_instances() == 0, "untracked_instances: install() left classes tracked"


def _accepts_connections(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def _http_client(url: str, region: str):
    return boto3.client(
        "dynamodb", region_name=region, endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_local_dynamodb_serves_its_table_over_http_resets_and_stops():
    dynamodb = LocalDynamoDB("ap-southeast-2", port=0).start()
    try:
        host, port = dynamodb.url.removeprefix("http://").rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        client = _http_client(dynamodb.url, "ap-southeast-2")
        assert client.list_tables()["TableNames"] == ["keyvalues"]
        client.put_item(TableName="keyvalues", Item={"key": {"S": "k"}, "value": {"S": "v"}})
        assert (
            dynamodb.client().get_item(TableName="keyvalues", Key={"key": {"S": "k"}})["Item"]["value"]["S"]
            == "v"
        )
        status, answer = dynamodb.trim(b'{"upto": null}')
        assert status == 200 and answer["records_stored"] == 1 and answer["trimmed"] == 0
        assert dynamodb.trim(b"{bad")[0] == 400

        dynamodb.reset()

        assert client.scan(TableName="keyvalues")["Count"] == 0
        assert dynamodb.trim(b"{}")[1]["records_stored"] == 0  # a new table, a new stream
    finally:
        dynamodb.stop()
    assert not _accepts_connections(host, int(port))


def test_local_dynamodb_close_shuts_the_listening_socket():
    dynamodb = LocalDynamoDB("ap-southeast-1", table_name="other", port=0).start()
    host, port = dynamodb.url.removeprefix("http://").rsplit(":", 1)
    try:
        assert _http_client(dynamodb.url, "ap-southeast-1").list_tables()["TableNames"] == ["other"]
        dynamodb.close()
        assert not _accepts_connections(host, int(port))
    finally:
        dynamodb.stop()


LEGACY_CALLS = [
    ("describe_global_table", {"GlobalTableName": "shapes"}),
    ("describe_global_table_settings", {"GlobalTableName": "shapes"}),
    ("update_global_table", {"GlobalTableName": "shapes", "ReplicaUpdates": [{"Create": {"RegionName": "eu-west-1"}}]}),
    ("update_global_table_settings", {"GlobalTableName": "shapes"}),
]


def test_legacy_global_table_calls_answer_json_as_for_a_2019_table_over_http():
    """AWS CLI and boto3 see JSON errors at once (moto alone answered an HTML 500, which the CLI retried ~27 s)."""
    from botocore.config import Config

    dynamodb = LocalDynamoDB("us-west-1", "shapes").start()
    try:
        client = boto3.client(
            "dynamodb",
            region_name="us-west-1",
            endpoint_url=dynamodb.url,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}),
        )
        for operation, arguments in LEGACY_CALLS:
            with pytest.raises(client.exceptions.GlobalTableNotFoundException) as raised:
                getattr(client, operation)(**arguments)
            assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            assert "shapes" in raised.value.response["Error"]["Message"]
        assert client.list_global_tables()["GlobalTables"] == []
        with pytest.raises(client.exceptions.ClientError) as refused:
            client.create_global_table(GlobalTableName="shapes", ReplicationGroup=[{"RegionName": "us-west-1"}])
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert "UpdateTable (ReplicaUpdates)" in refused.value.response["Error"]["Message"]
        assert client.describe_table(TableName="shapes")["Table"]["TableStatus"] == "ACTIVE"  # the rest unchanged
    finally:
        dynamodb.stop()


def test_stream_records_name_the_region_of_their_table():
    """A consumer reading a region's stream over HTTP sees that region in awsRegion (moto wrote us-east-1)."""
    dynamodb = LocalDynamoDB("eu-central-1", "shapes").start()
    try:
        client = _http_client(dynamodb.url, "eu-central-1")
        client.put_item(TableName="shapes", Item={"key": {"S": "k"}, "value": {"S": "v"}})
        client.delete_item(TableName="shapes", Key={"key": {"S": "k"}})
        streams = boto3.client(
            "dynamodbstreams",
            region_name="eu-central-1",
            endpoint_url=dynamodb.url,
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        arn = streams.list_streams(TableName="shapes")["Streams"][0]["StreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
        assert [record["eventName"] for record in records] == ["INSERT", "REMOVE"]
        assert {record["awsRegion"] for record in records} == {"eu-central-1"}
    finally:
        dynamodb.stop()


def _records(url: str, region: str, table: str) -> list[str]:
    streams = boto3.client(
        "dynamodbstreams",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    arn = streams.list_streams(TableName=table)["Streams"][0]["StreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return [
        r["dynamodb"]["Keys"]["key"]["S"]
        for r in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    ]


def test_transactions_are_all_or_nothing_after_a_stream_trim_and_cancelled_ones_leave_no_record():
    """transactions_all_or_nothing: moto's deepcopy of a trimmed stream raised (HTML 500 for every transaction)."""
    from botocore.config import Config

    dynamodb = LocalDynamoDB("us-west-1", "shapes").start()
    try:
        client = boto3.client(
            "dynamodb",
            region_name="us-west-1",
            endpoint_url=dynamodb.url,
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1}),
        )
        client.put_item(TableName="shapes", Item={"key": {"S": "old"}, "value": {"S": "kept"}})
        assert dynamodb.trim(b'{"upto": null}')[0] == 200  # the janitor's OffsetList is now the shard's list
        put = lambda key: {"Put": {"TableName": "shapes", "Item": {"key": {"S": key}}}}  # noqa: E731
        client.transact_write_items(TransactItems=[put("a"), put("b")])
        guarded = {
            **put("old")["Put"],
            "ConditionExpression": "attribute_not_exists(#k)",
            "ExpressionAttributeNames": {"#k": "key"},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
            client.transact_write_items(TransactItems=[put("c"), {"Put": guarded}])
        reasons = cancelled.value.response["CancellationReasons"]
        assert [reason["Code"] for reason in reasons] == ["None", "ConditionalCheckFailed"]
        assert reasons[1]["Item"]["value"] == {"S": "kept"}
        assert "Item" not in client.get_item(TableName="shapes", Key={"key": {"S": "c"}})
        assert _records(dynamodb.url, "us-west-1", "shapes") == ["old", "a", "b"]  # nothing of "c"
    finally:
        dynamodb.stop()


@pytest.mark.parametrize(
    "target, body, error",
    [
        ("TransactWriteItems", {}, "ValidationException"),
        ("TransactWriteItems", {"TransactItems": [{"Bogus": {}}]}, "ValidationException"),
        ("TransactWriteItems", {"TransactItems": "not a list"}, "SerializationException"),
        ("BatchWriteItem", {}, "ValidationException"),
        ("BatchWriteItem", {"RequestItems": {"shapes": [{"Bogus": {}}]}}, "ValidationException"),
        ("ExecuteStatement", {"Statement": "SELEKT garbage"}, "ValidationException"),
        ("BatchExecuteStatement", {"Statements": [{"Statement": "garbage"}]}, "ValidationException"),
    ],
)
def test_write_requests_answer_bad_input_with_a_json_400(target, body, error):
    """write_requests_json: each of these answered moto's HTML 500."""
    import json

    import requests

    dynamodb = LocalDynamoDB("us-west-1", "shapes").start()
    try:
        answer = requests.post(
            dynamodb.url,
            data=json.dumps(body),
            headers={
                "X-Amz-Target": f"DynamoDB_20120810.{target}",
                "Content-Type": "application/x-amz-json-1.0",
                "Authorization": "AWS4-HMAC-SHA256 Credential=x/20250101/us-west-1/dynamodb/aws4_request, "
                "SignedHeaders=host, Signature=x",
            },
            timeout=10,
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["__type"].endswith(f"#{error}")
    finally:
        dynamodb.stop()

"""TransactWriteItems, BatchWriteItem and PartiQL through a running local region's DynamoDB endpoint, with boto3 and
with this venv's AWS CLI, as any DynamoDB client would: writes land and replicate, cancellations and bad requests
answer as AWS does (docs/FIDELITY.md). The issue: transact-write-items answered HTTP 500 with an HTML page.
"""

from __future__ import annotations

import json
import time

import pytest
from aws_cli import aws, error_code, output
from cloud_clients import local_client

from backend.local.cloud import LocalCloud

pytestmark = pytest.mark.e2e

US, EU = "us-west-2", "eu-central-1"
TABLE = "keyvalues"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    with LocalCloud(
        regions=[US, EU], network="none", endpoints_file=tmp_path_factory.mktemp("cloud") / "endpoints.json"
    ) as local:
        yield local


def _client(cloud, region: str):
    return local_client(cloud, region, retries={"max_attempts": 1})  # an HTML 500 would show at once


@pytest.fixture(scope="module")
def us(cloud):
    return _client(cloud, US)


def _item(key: str, value: str = "v") -> dict:
    return {
        "key": {"S": key},
        "value": {"S": value},
        "region": {"S": US},
        "writtenAt": {"N": str(time.time_ns() // 10**6)},
    }


def _put(key: str, **condition) -> dict:
    return {"Put": {"TableName": TABLE, "Item": _item(key), **condition}}


NOT_THERE = {"ConditionExpression": "attribute_not_exists(#k)", "ExpressionAttributeNames": {"#k": "key"}}


def _eventually_in(client, key: str, timeout_s: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        item = client.get_item(TableName=TABLE, Key={"key": {"S": key}}).get("Item")
        if item:
            return item
        time.sleep(0.05)
    pytest.fail(f"{key} not replicated within {timeout_s} s")


def _absent(client, key: str) -> bool:
    return "Item" not in client.get_item(TableName=TABLE, Key={"key": {"S": key}})


def test_boto3_transaction_writes_every_item_and_they_replicate(cloud, us):
    us.transact_write_items(TransactItems=[_put("tx-a"), _put("tx-b", **NOT_THERE)])
    assert not _absent(us, "tx-a") and not _absent(us, "tx-b")
    eu = _client(cloud, EU)
    assert _eventually_in(eu, "tx-b")["value"] == {"S": "v"}


def test_boto3_cancelled_transaction_writes_nothing_and_says_why_per_item(us):
    us.put_item(TableName=TABLE, Item=_item("tx-taken", "first"))
    guarded = {**NOT_THERE, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    with pytest.raises(us.exceptions.TransactionCanceledException) as cancelled:
        us.transact_write_items(TransactItems=[_put("tx-new"), _put("tx-taken", **guarded)])
    response = cancelled.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert [reason["Code"] for reason in response["CancellationReasons"]] == [
        "None",
        "ConditionalCheckFailed",
    ]
    assert response["CancellationReasons"][1]["Item"]["value"] == {"S": "first"}
    assert _absent(us, "tx-new")


@pytest.mark.parametrize(
    "items, message",
    [
        ([_put("tx-bad", ConditionExpression="((")], "Invalid ConditionExpression"),
        ([_put("tx-twice"), {"Delete": {"TableName": TABLE, "Key": {"key": {"S": "tx-twice"}}}}], "one item"),
        ([{"Put": {"TableName": TABLE, "Item": {"value": {"S": "no key"}}}}], "Missing the key key"),
        ([{"Delete": {"TableName": TABLE, "Key": {"nokey": {"S": "x"}}}}], "does not match the schema"),
    ],
    ids=["bad-condition", "same-item-twice", "missing-key", "wrong-key"],
)
def test_boto3_invalid_transaction_is_a_validation_exception(us, items, message):
    with pytest.raises(us.exceptions.ClientError) as refused:
        us.transact_write_items(TransactItems=items)
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ValidationException" and message in error["Error"]["Message"]


def test_cli_transact_write_items_writes_and_cancels(cloud, us, tmp_path):
    endpoint = cloud.endpoints["dynamodb"][US]
    items = json.dumps([_put("cli-tx-a"), _put("cli-tx-b")])
    output(aws(["dynamodb", "transact-write-items", "--transact-items", items], US, endpoint, tmp_path))
    assert not _absent(us, "cli-tx-a") and not _absent(us, "cli-tx-b")

    clash = json.dumps([_put("cli-tx-c"), _put("cli-tx-a", **NOT_THERE)])
    cancelled = aws(["dynamodb", "transact-write-items", "--transact-items", clash], US, endpoint, tmp_path)
    assert cancelled.returncode != 0 and error_code(cancelled) == "TransactionCanceledException"
    assert "[None, ConditionalCheckFailed]" in cancelled.stderr and _absent(us, "cli-tx-c")

    keyless = json.dumps([{"Put": {"TableName": TABLE, "Item": {"value": {"S": "no key"}}}}])
    invalid = aws(["dynamodb", "transact-write-items", "--transact-items", keyless], US, endpoint, tmp_path)
    assert error_code(invalid) == "ValidationException" and "Missing the key key" in invalid.stderr


def test_batch_write_item_with_boto3_and_the_cli(cloud, us, tmp_path):
    requests = {TABLE: [{"PutRequest": {"Item": _item(f"batch-{i}")}} for i in range(3)]}
    assert us.batch_write_item(RequestItems=requests)["UnprocessedItems"] == {}
    assert all(not _absent(us, f"batch-{i}") for i in range(3))

    bad = {
        TABLE: [{"PutRequest": {"Item": _item("batch-ok")}}, {"PutRequest": {"Item": {"value": {"S": "x"}}}}]
    }
    with pytest.raises(us.exceptions.ClientError) as refused:
        us.batch_write_item(RequestItems=bad)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert _absent(us, "batch-ok")  # refused whole, as on AWS

    endpoint = cloud.endpoints["dynamodb"][US]
    cli = {TABLE: [{"DeleteRequest": {"Key": {"key": {"S": "batch-0"}}}}]}
    output(aws(["dynamodb", "batch-write-item", "--request-items", json.dumps(cli)], US, endpoint, tmp_path))
    assert _absent(us, "batch-0")
    too_many = {TABLE: [{"DeleteRequest": {"Key": {"key": {"S": f"k{i}"}}}} for i in range(26)]}
    result = aws(
        ["dynamodb", "batch-write-item", "--request-items", json.dumps(too_many)], US, endpoint, tmp_path
    )
    assert error_code(result) == "ValidationException" and "Too many items" in result.stderr


def test_partiql_statements_with_boto3_and_the_cli(cloud, us, tmp_path):
    insert = f"INSERT INTO {TABLE} VALUE {{'key': 'sql-a', 'value': 'v', 'region': '{US}', 'writtenAt': 1}}"
    us.execute_statement(Statement=insert)
    found = us.execute_statement(
        Statement=f'SELECT * FROM {TABLE} WHERE "key" = ?', Parameters=[{"S": "sql-a"}]
    )
    assert found["Items"][0]["value"] == {"S": "v"}
    with pytest.raises(us.exceptions.ClientError) as refused:
        us.execute_statement(Statement="SELEKT nothing")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    batch = us.batch_execute_statement(
        Statements=[{"Statement": f"SELECT * FROM {TABLE} WHERE \"key\" = 'sql-a'"}]
    )
    assert batch["Responses"][0]["Item"]["key"] == {"S": "sql-a"}
    with pytest.raises(us.exceptions.ClientError) as bad_batch:
        us.batch_execute_statement(Statements=[{"Statement": "garbage"}])
    assert bad_batch.value.response["Error"]["Code"] == "ValidationException"

    endpoint = cloud.endpoints["dynamodb"][US]
    select = f"SELECT * FROM {TABLE} WHERE \"key\" = 'sql-a'"
    assert output(aws(["dynamodb", "execute-statement", "--statement", select], US, endpoint, tmp_path))[
        "Items"
    ]
    bad = aws(["dynamodb", "execute-statement", "--statement", "SELEKT"], US, endpoint, tmp_path)
    assert error_code(bad) == "ValidationException"

"""Regression tests of the races the chaos run found in moto's DynamoDB writes (fixed by the ``serialized_writes``
patch, backend.local.dynamodb.patches).

Both run concurrent writes against in-process moto, with the interpreter switching threads as often as it can, and
check what DynamoDB guarantees: one stream record per write, each with its own sequence number; and a conditional
write never replaces an item newer than its condition allows.
"""

import sys
import threading

import boto3
import pytest
from moto import mock_aws

from backend.local.dynamodb import patches
from backend.store import table_definition


@pytest.fixture
def fast_switching():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


@pytest.fixture
def table(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-west-2")
        client.create_table(**table_definition("keyvalues"))
        yield client


def _in_threads(count: int, target) -> None:
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _stream_records(client) -> list[dict]:
    """The table's stream records as the DynamoDB Streams API shapes them (read from moto's backend: in-process moto
    does not serve DescribeStream)."""
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends["123456789012"]["us-west-2"].tables["keyvalues"].stream_shard
    return [record.to_json() for record in list(shard.items)]


def test_concurrent_puts_get_one_stream_record_each_with_its_own_sequence_number(table, fast_switching):
    patches.install()
    per_thread = 60

    def writer(number):
        for i in range(per_thread):
            table.put_item(
                TableName="keyvalues",
                Item={"key": {"S": f"k{number}-{i}"}, "value": {"S": "v"}, "region": {"S": "us-west-2"},
                      "writtenAt": {"N": str(i)}},
            )  # fmt: skip

    _in_threads(8, writer)
    records = _stream_records(table)
    sequence_numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert len(records) == 8 * per_thread
    assert len(set(sequence_numbers)) == len(sequence_numbers), "two stream records share a sequence number"
    assert sequence_numbers == sorted(sequence_numbers)


def test_a_conditional_put_never_replaces_a_newer_item_written_concurrently(table, fast_switching):
    """The replicator's put (only over an older item) races the handler's unconditional puts of newer versions."""
    patches.install()
    rounds = 100
    violations = []
    in_step = threading.Barrier(2)  # both writers in the same round, so their writes really overlap

    def item(version):
        return {"key": {"S": "hot"}, "value": {"S": f"v{version}"}, "region": {"S": "r"},
                "writtenAt": {"N": str(version)}}  # fmt: skip

    def run(number):
        for i in range(rounds):
            in_step.wait()
            if number == 0:
                table.put_item(TableName="keyvalues", Item=item(2 * i + 1))  # local write, newer each time
            else:
                try:
                    table.put_item(
                        TableName="keyvalues", Item=item(2 * i),
                        ConditionExpression="attribute_not_exists(#k) OR #ts < :ts",
                        ExpressionAttributeNames={"#k": "key", "#ts": "writtenAt"},
                        ExpressionAttributeValues={":ts": {"N": str(2 * i)}},
                    )  # fmt: skip
                except table.exceptions.ConditionalCheckFailedException:
                    pass

    _in_threads(2, run)
    for record in _stream_records(table):
        old = record["dynamodb"].get("OldImage")
        new = record["dynamodb"]["NewImage"]
        new_version = int(new["writtenAt"]["N"])
        if old and new_version % 2 == 0 and int(old["writtenAt"]["N"]) >= new_version:
            violations.append((old["writtenAt"]["N"], new["writtenAt"]["N"]))
    assert violations == []


def test_serializing_twice_wraps_nothing_more(table):
    patches.install()
    assert patches.install() == 0

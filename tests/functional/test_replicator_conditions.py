"""The conditional writes the replicator sends agree with ``decisions.accepts`` (the rule the model test uses),
on moto's DynamoDB, for any stored item and any incoming change."""

import os

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from backend.local.replication import decisions
from backend.local.replication.applier import apply_change
from backend.local.replication.decisions import DELETE, PUT, REPLICA_DELETE_MARK, Change, Version
from backend.store import table_definition

TABLE = "keyvalues"
REGIONS = ("eu-central-1", "us-west-2")


@pytest.fixture(scope="module")
def dynamodb():
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-west-2")
        client.create_table(**table_definition(TABLE))
        yield client


def item(version: Version, key="k"):
    return {
        "key": {"S": key},
        "value": {"S": version.value},
        "region": {"S": version.region},
        "writtenAt": {"N": str(version.ts)},
    }


versions = st.builds(
    Version,
    ts=st.integers(0, 3),
    region=st.sampled_from(REGIONS),
    kind=st.just(PUT),
    value=st.sampled_from(["a", "b"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    current=st.none() | versions,
    incoming=versions,
    is_delete=st.booleans(),
    tombstone=st.none() | versions.map(lambda v: Version(v.ts, v.region, DELETE)),
)
def test_conditional_writes_match_the_rule(dynamodb, current, incoming, is_delete, tombstone):
    dynamodb.delete_item(TableName=TABLE, Key={"key": {"S": "k"}})
    if current is not None:
        dynamodb.put_item(TableName=TABLE, Item=item(current))
    if is_delete:
        change = Change("k", Version(incoming.ts, incoming.region, DELETE), None, 0)
    else:
        change = Change("k", incoming, item(incoming), 0)

    winner = apply_change(dynamodb, TABLE, change, tombstone)

    stored = dynamodb.get_item(TableName=TABLE, Key={"key": {"S": "k"}}).get("Item")
    if decisions.accepts(current, tombstone, change):
        assert stored == (None if is_delete else item(incoming))
        assert winner is None
    else:
        assert stored == (None if current is None else item(current))
        blocked_by_tombstone = not is_delete and tombstone is not None and tombstone > change.version
        if current is not None and current > change.version and not blocked_by_tombstone:
            assert winner is not None and winner.version == current and winner.item == item(current)
    assert stored is None or REPLICA_DELETE_MARK not in stored


def test_items_without_writtenAt_lose_to_any_replicated_put(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={"key": {"S": "old"}, "value": {"S": "walkthrough"}})
    change = Change(
        "old", Version(1, "us-west-2", PUT, "v"), item(Version(1, "us-west-2", PUT, "v"), "old"), 0
    )
    assert apply_change(dynamodb, TABLE, change, None) is None
    assert dynamodb.get_item(TableName=TABLE, Key={"key": {"S": "old"}})["Item"]["value"]["S"] == "v"

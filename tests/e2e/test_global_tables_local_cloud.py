"""The AWS global-tables tutorial's CLI steps (version 2019.11.21, "Tutorial: creating a global table", with
``--endpoint-url``) against a running three-region local cloud, with this venv's AWS CLI and boto3: a table created
in one region, replicas added with ``update-table --replica-updates``, ``wait table-exists``, items written in one
region and read in another, a replica deleted. AWS documents: UpdateTable API reference, "Global tables: how it
works" (docs/FIDELITY.md)."""

from __future__ import annotations

import json
import time

import pytest
from aws_cli import aws, error_code, output
from cloud_clients import local_client

from backend.local.cloud import LocalCloud

pytestmark = pytest.mark.e2e

US, EU, AP = "us-west-2", "eu-central-1", "ap-northeast-1"
TABLE = "Music"
EARLIER = 300  # items written before update-table: every one must be in a new replica within 10 s


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    with LocalCloud(
        regions=[US, EU, AP], network="none", state_dir=tmp_path_factory.mktemp("global-tables")
    ) as local:
        yield local


def client(cloud, region: str):
    return local_client(cloud, region, retries={"max_attempts": 1})


def cli(cloud, tmp_path, region: str, *arguments: str):
    return aws(["dynamodb", *arguments], region, cloud.endpoints["dynamodb"][region], tmp_path)


def replicas(description: dict) -> dict:
    return {replica["RegionName"]: replica["ReplicaStatus"] for replica in description.get("Replicas", [])}


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    assert predicate(), f"{what} not within {timeout_s} s"


def song(n: int) -> dict:
    return {"Artist": {"S": f"item_{n}"}, "SongTitle": {"S": f"Song Value {n}"}}


def count(c) -> int:
    pages = c.get_paginator("scan").paginate(TableName=TABLE, Select="COUNT")
    return sum(page["Count"] for page in pages)


def test_the_tutorial_with_the_aws_cli(cloud, tmp_path):
    us, eu, ap = (client(cloud, region) for region in (US, EU, AP))
    # Step 1: a table in one region; streams off (AWS turns them on for replicas)
    output(
        cli(
            cloud, tmp_path, US, "create-table", "--table-name", TABLE,
            "--attribute-definitions", "AttributeName=Artist,AttributeType=S", "AttributeName=SongTitle,AttributeType=S",
            "--key-schema", "AttributeName=Artist,KeyType=HASH", "AttributeName=SongTitle,KeyType=RANGE",
            "--billing-mode", "PAY_PER_REQUEST",
        )
    )  # fmt: skip
    for start in range(0, EARLIER, 25):
        batch = [{"PutRequest": {"Item": song(n)}} for n in range(start, min(start + 25, EARLIER))]
        us.batch_write_item(RequestItems={TABLE: batch})

    # Step 2: replicas in a second and a third region
    started = time.monotonic()
    answer = output(
        cli(cloud, tmp_path, US, "update-table", "--table-name", TABLE,
            "--replica-updates", json.dumps([{"Create": {"RegionName": EU}}]))
    )["TableDescription"]  # fmt: skip
    assert replicas(answer) == {US: "ACTIVE", EU: "CREATING"}
    assert answer["GlobalTableVersion"] == "2019.11.21"
    output(
        cli(cloud, tmp_path, US, "update-table", "--table-name", TABLE,
            "--cli-input-json", json.dumps({"ReplicaUpdates": [{"Create": {"RegionName": AP}}]}))
    )  # fmt: skip
    everywhere = {US: "ACTIVE", EU: "ACTIVE", AP: "ACTIVE"}
    wait_for(
        lambda: all(replicas(c.describe_table(TableName=TABLE)["Table"]) == everywhere for c in (us, eu, ap)),
        10,
        "every replica ACTIVE",
    )
    active_s = time.monotonic() - started
    assert count(eu) == EARLIER and count(ap) == EARLIER, "an added replica holds every earlier item"
    assert time.monotonic() - started < 10
    print(f"\n{EARLIER} items: update-table -> both new replicas ACTIVE and full in {active_s:.2f} s")

    # Step 3: the tables exist in the new regions, and every region describes the whole group
    for region in (EU, AP):
        assert cli(cloud, tmp_path, region, "wait", "table-exists", "--table-name", TABLE).returncode == 0
    for region in (US, EU, AP):
        table = output(cli(cloud, tmp_path, region, "describe-table", "--table-name", TABLE))["Table"]
        assert replicas(table) == everywhere and table["GlobalTableVersion"] == "2019.11.21"
        assert table["TableStatus"] == "ACTIVE"
        assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert TABLE in output(cli(cloud, tmp_path, EU, "list-tables"))["TableNames"]

    # Step 4: written in one region, read in another
    output(cli(cloud, tmp_path, US, "put-item", "--table-name", TABLE, "--item", json.dumps(song(1000))))
    output(cli(cloud, tmp_path, EU, "put-item", "--table-name", TABLE, "--item", json.dumps(song(1001))))

    def read(region, n):
        return cli(cloud, tmp_path, region, "get-item", "--table-name", TABLE, "--key", json.dumps(song(n)))

    wait_for(lambda: "Item" in output(read(AP, 1000)) and "Item" in output(read(US, 1001)), 10, "replication")

    # Step 5: a replica deleted
    output(
        cli(cloud, tmp_path, US, "update-table", "--table-name", TABLE,
            "--replica-updates", json.dumps([{"Delete": {"RegionName": EU}}]))
    )  # fmt: skip
    rest = {US: "ACTIVE", AP: "ACTIVE"}
    wait_for(
        lambda: TABLE not in eu.list_tables()["TableNames"], 10, "the table deleted in the removed region"
    )
    wait_for(
        lambda: all(replicas(c.describe_table(TableName=TABLE)["Table"]) == rest for c in (us, ap)),
        10,
        "the removed replica gone from Replicas",
    )
    assert (
        error_code(cli(cloud, tmp_path, EU, "describe-table", "--table-name", TABLE))
        == "ResourceNotFoundException"
    )
    output(cli(cloud, tmp_path, AP, "put-item", "--table-name", TABLE, "--item", json.dumps(song(1002))))
    wait_for(lambda: "Item" in output(read(US, 1002)), 10, "replication between the replicas left")


def test_refused_replica_updates_answer_a_validation_exception_at_once(cloud, tmp_path):
    us = client(cloud, US)
    us.create_table(
        TableName="Refused",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for updates in (
        [{"Create": {"RegionName": "sa-east-1"}}],  # a region this cloud does not run
        [{"Create": {"RegionName": "xx-nowhere-1"}}],
        [{"Create": {"RegionName": US}}],
        [{"Delete": {"RegionName": EU}}],
        [{"Create": {"RegionName": EU}}, {"Delete": {"RegionName": EU}}],
        [{"Update": {"RegionName": EU}}],
    ):
        started = time.monotonic()
        result = cli(
            cloud,
            tmp_path,
            US,
            "update-table",
            "--table-name",
            "Refused",
            "--replica-updates",
            json.dumps(updates),
        )
        assert error_code(result) == "ValidationException", (updates, result.stderr)
        assert time.monotonic() - started < 10  # a JSON 400: the CLI does not retry
    assert "Replicas" not in us.describe_table(TableName="Refused")["Table"]


def test_the_cloud_s_own_table_is_global_from_the_start_and_the_replicator_reports_as_before(cloud):
    everywhere = {US: "ACTIVE", EU: "ACTIVE", AP: "ACTIVE"}
    for region in (US, EU, AP):
        table = client(cloud, region).describe_table(TableName="keyvalues")["Table"]
        assert replicas(table) == everywhere and table["GlobalTableVersion"] == "2019.11.21"
    status = cloud.control.status()
    assert status  # the control API still reads the replicator
    latency = cloud.control.replication_latency()
    assert {(p["source"], p["destination"]) for p in latency["pairs"]} >= {(US, EU), (EU, US)}

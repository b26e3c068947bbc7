"""Choosing MRSC through the DynamoDB API, as the AWS CLI sends it (``update-table --replica-updates …
--global-table-witness-updates … --multi-region-consistency STRONG`` on an empty table), against a running
three-region local cloud, and every configuration AWS refuses: a wrong region count, regions from two sets, a
non-empty table, a mode changed later, time to live and transactions on an MRSC table; and ``mrkv-local up`` with a
region group MRSC does not allow. AWS documents: DynamoDB Developer Guide, "Multi-Region strong consistency";
API reference, UpdateTable (docs/FIDELITY.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from aws_cli import aws, error_code, output
from mrsc_support import US_SET, client

from backend.local.cloud import ROOT, LocalCloud

pytestmark = pytest.mark.e2e

SOURCE, REPLICA, WITNESS = "us-east-2", "us-east-1", "us-west-2"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    with LocalCloud(regions=US_SET, network="none", state_dir=tmp_path_factory.mktemp("mrsc-config")) as local:
        yield local


def cli(cloud, tmp_path, region: str, *arguments: str):
    return aws(["dynamodb", *arguments], region, cloud.endpoints["dynamodb"][region], tmp_path)


def create_table(cloud, tmp_path, name: str):
    created = cli(
        cloud, tmp_path, SOURCE, "create-table", "--table-name", name,
        "--attribute-definitions", "AttributeName=Artist,AttributeType=S",
        "--key-schema", "AttributeName=Artist,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST",
    )
    assert created.returncode == 0, created.stderr


def make_strong(cloud, tmp_path, name: str, replicas=(REPLICA,), witnesses=(WITNESS,), mode="STRONG"):
    arguments = ["update-table", "--table-name", name, "--multi-region-consistency", mode]
    arguments += ["--replica-updates", json.dumps([{"Create": {"RegionName": r}} for r in replicas])]
    if witnesses:
        arguments += ["--global-table-witness-updates", json.dumps([{"Create": {"RegionName": w}} for w in witnesses])]
    return cli(cloud, tmp_path, SOURCE, *arguments)


def test_update_table_makes_an_empty_table_mrsc_with_a_witness(cloud, tmp_path):
    create_table(cloud, tmp_path, "Strong")
    answer = make_strong(cloud, tmp_path, "Strong")
    assert answer.returncode == 0, answer.stderr
    table = output(answer)["TableDescription"]
    assert table["MultiRegionConsistency"] == "STRONG"
    assert table["GlobalTableWitnesses"] == [{"RegionName": WITNESS, "WitnessStatus": "ACTIVE"}]
    replica = client(cloud, REPLICA)
    deadline = time.monotonic() + 20
    while True:  # the replica is created and backfilled by the replicator
        try:
            described = replica.describe_table(TableName="Strong")["Table"]
            if {r["RegionName"]: r["ReplicaStatus"] for r in described["Replicas"]}.get(REPLICA) == "ACTIVE":
                break
        except replica.exceptions.ResourceNotFoundException:
            pass
        assert time.monotonic() < deadline, "the replica never became ACTIVE"
        time.sleep(0.2)
    assert described["MultiRegionConsistency"] == "STRONG"  # the new replica is MRSC too
    put = cli(cloud, tmp_path, SOURCE, "put-item", "--table-name", "Strong", "--item", '{"Artist": {"S": "Nina"}}')
    assert put.returncode == 0, put.stderr
    got = replica.get_item(TableName="Strong", Key={"Artist": {"S": "Nina"}}, ConsistentRead=True)
    assert got["Item"] == {"Artist": {"S": "Nina"}}  # fresh in the other replica at once

    ttl = cli(cloud, tmp_path, SOURCE, "update-time-to-live", "--table-name", "Strong",
              "--time-to-live-specification", "Enabled=true,AttributeName=expires")
    assert ttl.returncode != 0 and error_code(ttl) == "ValidationException"
    assert "Time to live" in ttl.stderr
    transaction = cli(cloud, tmp_path, SOURCE, "transact-write-items", "--transact-items",
                      json.dumps([{"Put": {"TableName": "Strong", "Item": {"Artist": {"S": "Ella"}}}}]))
    assert transaction.returncode != 0 and error_code(transaction) == "ValidationException"
    assert "Transactions are not supported" in transaction.stderr
    later = cli(cloud, tmp_path, SOURCE, "update-table", "--table-name", "Strong",
                "--multi-region-consistency", "EVENTUAL")
    assert later.returncode != 0 and error_code(later) == "ValidationException"
    assert "cannot change" in later.stderr


@pytest.mark.parametrize(
    ("name", "replicas", "witnesses", "says"),
    [
        ("TwoOnly", (REPLICA,), (), "exactly three Regions"),
        ("FourRegions", (REPLICA, WITNESS), ("us-west-1",), "exactly three Regions"),
        ("TwoSets", (REPLICA,), ("eu-west-1",), "one Region set"),
        ("WitnessIsReplica", (REPLICA, WITNESS), (WITNESS,), "without a replica"),
        ("Outside", ("sa-east-1",), ("us-west-2",), "not available in sa-east-1"),
    ],
)
def test_region_groups_mrsc_does_not_allow_are_refused(cloud, tmp_path, name, replicas, witnesses, says):
    create_table(cloud, tmp_path, name)
    answer = make_strong(cloud, tmp_path, name, replicas, witnesses)
    assert answer.returncode != 0 and error_code(answer) == "ValidationException", answer.stderr
    assert says in answer.stderr
    described = output(cli(cloud, tmp_path, SOURCE, "describe-table", "--table-name", name))["Table"]
    assert "Replicas" not in described and "MultiRegionConsistency" not in described  # nothing recorded


def test_a_table_with_items_cannot_become_mrsc(cloud, tmp_path):
    create_table(cloud, tmp_path, "NotEmpty")
    cli(cloud, tmp_path, SOURCE, "put-item", "--table-name", "NotEmpty", "--item", '{"Artist": {"S": "Miles"}}')
    answer = make_strong(cloud, tmp_path, "NotEmpty")
    assert answer.returncode != 0 and error_code(answer) == "ValidationException"
    assert "empty table" in answer.stderr


@pytest.mark.parametrize(
    ("regions", "witness", "says"),
    [
        ("us-east-1,us-east-2", None, "exactly three Regions"),
        ("us-east-1,us-east-2,eu-west-1", None, "one Region set"),
        ("us-east-1,us-east-2,us-west-2", "us-east-1", "without a replica"),
    ],
)
def test_the_launcher_refuses_region_groups_mrsc_does_not_allow(tmp_path, regions, witness, says):
    command = [sys.executable, "-m", "backend.local", "up", "--consistency", "strong", "--regions", regions]
    command += ["--witness", witness] if witness else []
    command += ["--endpoints-file", str(tmp_path / "e.json"), "--state-dir", str(tmp_path / "state")]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert finished.returncode == 2, finished.stderr
    assert says in finished.stderr and "Traceback" not in finished.stderr

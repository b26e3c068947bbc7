"""Global tables for any DynamoDB client, end to end: writes through our HTTP API, the real AWS CLI (this venv's) and
boto3, straight to three running local regions, converge everywhere to the last writer by hidden version; an update of
an item born in another region converges; a region whose replica is removed leaves Replicas and routing.
AWS documents: "Global tables: how it works" (conflict resolution), the UpdateTable API reference (docs/FIDELITY.md)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from aws_cli import aws, output
from cloud_clients import local_client

from backend.local.chaos.clients import scan_versions
from backend.local.cloud import LocalCloud
from backend.local.contracts import ITEM_VERSION_HEADER, TABLE_NAME

pytestmark = pytest.mark.e2e

US, EU, AP = "us-west-2", "eu-central-1", "ap-northeast-1"
REGIONS = (US, EU, AP)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    with LocalCloud(regions=list(REGIONS), network="none", health_interval_s=0.3, failure_threshold=2,
                    state_dir=tmp_path_factory.mktemp("any-client")) as local:  # fmt: skip
        yield local


def client(cloud, region):
    return local_client(cloud, region, retries={"max_attempts": 1})


def cli(cloud, tmp_path, region, *arguments):
    return output(aws(["dynamodb", *arguments], region, cloud.endpoints["dynamodb"][region], tmp_path))


def api_post(cloud, region, key, value) -> str:
    """POST through the region's API Gateway stage; returns the hidden version the write got."""
    request = urllib.request.Request(f"{cloud.endpoints['regions'][region]}/{key}", method="POST",
                                     data=json.dumps({"value": value}).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.headers[ITEM_VERSION_HEADER]


def items(cloud, region) -> dict:
    return {i["key"]["S"]: i for i in client(cloud, region).scan(TableName=TABLE_NAME, ConsistentRead=True)["Items"]}


def everywhere(cloud, predicate, what, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(predicate(items(cloud, region)) for region in REGIONS):
            return
        time.sleep(0.05)
    raise AssertionError(f"{what}: not in every region within {timeout_s} s: "
                         f"{ {r: items(cloud, r) for r in REGIONS} }")  # fmt: skip


def test_the_api_the_cli_and_boto3_converge_in_every_region(cloud, tmp_path):
    api_post(cloud, US, "song", "from the API")
    everywhere(cloud, lambda held: held.get("song", {}).get("value") == {"S": "from the API"}, "the API's put")
    # An item born in us-west-2, updated in eu-central-1 by the CLI, then in ap-northeast-1 by boto3.
    cli(cloud, tmp_path, EU, "update-item", "--table-name", TABLE_NAME, "--key", '{"key": {"S": "song"}}',
        "--update-expression", "SET colour = :c ADD plays :one",
        "--expression-attribute-values", '{":c": {"S": "red"}, ":one": {"N": "1"}}')  # fmt: skip
    everywhere(cloud, lambda held: held.get("song", {}).get("colour") == {"S": "red"}, "the CLI's update")
    client(cloud, AP).update_item(TableName=TABLE_NAME, Key={"key": {"S": "song"}},
                                  UpdateExpression="REMOVE colour ADD plays :one",
                                  ExpressionAttributeValues={":one": {"N": "1"}})  # fmt: skip
    everywhere(cloud, lambda held: "colour" not in held.get("song", {"colour": 1})
               and held["song"].get("plays") == {"N": "2"}, "boto3's update")  # fmt: skip
    # Batches, transactions and deletes, each made in another region, with none of the app's attributes.
    requests = [{"PutRequest": {"Item": {"key": {"S": name}, "by": {"S": "cli"}}}} for name in ("b1", "b2")]
    cli(cloud, tmp_path, US, "batch-write-item", "--request-items", json.dumps({TABLE_NAME: requests}))
    everywhere(cloud, lambda held: {"b1", "b2"} <= set(held), "the CLI's batch")
    client(cloud, EU).transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE_NAME, "Item": {"key": {"S": "tx"}, "by": {"S": "boto3"}}}},
        {"Delete": {"TableName": TABLE_NAME, "Key": {"key": {"S": "b1"}}}},
    ])  # fmt: skip
    cli(cloud, tmp_path, AP, "delete-item", "--table-name", TABLE_NAME, "--key", '{"key": {"S": "b2"}}')
    api_post(cloud, EU, "song", "last")  # the API's put replaces the whole item, last
    expected = {"song", "tx"}
    everywhere(cloud, lambda held: set(held) == expected and held["song"]["value"] == {"S": "last"}
               and "plays" not in held["song"], "the final state")  # fmt: skip
    states = [items(cloud, region) for region in REGIONS]
    assert states[0] == states[1] == states[2]
    assert states[0]["tx"] == {"key": {"S": "tx"}, "by": {"S": "boto3"}}


def test_a_race_of_three_clients_ends_with_the_newest_version_everywhere(cloud, tmp_path):
    racers = [
        lambda: api_post(cloud, US, "race", "api"),
        lambda: cli(cloud, tmp_path, EU, "put-item", "--table-name", TABLE_NAME, "--item",
                    '{"key": {"S": "race"}, "value": {"S": "cli"}}'),  # fmt: skip
        lambda: client(cloud, AP).put_item(TableName=TABLE_NAME,
                                           Item={"key": {"S": "race"}, "value": {"S": "boto3"}}),  # fmt: skip
    ]
    threads = [threading.Thread(target=racer) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everywhere(cloud, lambda held: "race" in held, "the race's key")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        doors = {r: scan_versions(cloud.region_info[r]["admin"] + "/__admin/dynamodb", r).get("race") for r in REGIONS}
        values = {r: items(cloud, r)["race"]["value"]["S"] for r in REGIONS}
        if len(set(doors.values())) == 1 and len(set(values.values())) == 1:
            break
        time.sleep(0.05)
    assert len(set(doors.values())) == 1, doors  # one version everywhere: the newest any region stamped
    assert len(set(values.values())) == 1 and values[US] in ("api", "cli", "boto3"), values


def test_a_region_whose_replica_is_removed_leaves_replicas_and_routing(cloud, tmp_path):
    cloud.control.set_client_location("Frankfurt")
    served = _served_region(cloud)
    assert served == EU, served
    cli(cloud, tmp_path, US, "update-table", "--table-name", TABLE_NAME,
        "--replica-updates", json.dumps([{"Delete": {"RegionName": EU}}]))  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = {r["RegionName"] for r in client(cloud, US).describe_table(TableName=TABLE_NAME)["Table"]["Replicas"]}
        if EU not in left and _served_region(cloud) != EU:
            break
        time.sleep(0.1)
    assert left == {US, AP}, left
    assert _served_region(cloud) != EU  # its health check fails without its table: Route 53 routes elsewhere


def _served_region(cloud) -> str:
    try:
        with urllib.request.urlopen(f"{cloud.endpoints['global']}/_health", timeout=10) as answer:
            return answer.headers["X-Served-Region"]
    except urllib.error.HTTPError as error:
        return error.headers.get("X-Served-Region", "")

"""Global tables made by any client with UpdateTable ReplicaUpdates (version 2019.11.21): in-process moto on
127.0.0.1 for the clients, the regions' door (``tests/door_support.py``) for the replicator's fleet, as in the local
cloud. AWS: UpdateTable API reference, "Global tables: how it works" (docs/FIDELITY.md)."""

import json
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError
from door_support import door_server
from moto_support import moto_server

from backend.local.dynamodb import patches, replicas
from backend.local.replication.fleet import Fleet
from backend.local.replication.membership import create_request
from backend.store import table_definition

US, EU, AP = "us-west-2", "eu-central-1", "ap-northeast-1"
REGIONS = (US, EU, AP)
TABLE = "Music"


@pytest.fixture(scope="module")
def moto_url():
    patches.install()  # as a region process does: the replicas hooks are among them
    replicas.set_cloud_regions(REGIONS)
    try:
        with moto_server() as url:
            yield url
    finally:
        replicas.set_cloud_regions(())


@pytest.fixture(scope="module")
def door_url():
    with door_server() as url:
        yield url


def client(url, region):
    return boto3.client(
        "dynamodb", region_name=region, endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def clients(moto_url):
    made = {region: client(moto_url, region) for region in REGIONS}
    yield made
    for c in made.values():
        for name in c.list_tables()["TableNames"]:
            c.delete_table(TableName=name)


def music_table(c, stream: bool = False) -> None:
    """The tutorial's table: a composite key, provisioned, a simple index, no stream (AWS turns one on)."""
    c.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "Artist", "KeyType": "HASH"},
            {"AttributeName": "SongTitle", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "Artist", "AttributeType": "S"},
            {"AttributeName": "SongTitle", "AttributeType": "S"},
            {"AttributeName": "Album", "AttributeType": "S"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByAlbum",
                "KeySchema": [{"AttributeName": "Album", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            }
        ],
        **({"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}} if stream else {}),
    )


def song(artist: str, title: str) -> dict:
    return {"Artist": {"S": artist}, "SongTitle": {"S": title}, "Album": {"S": "Songs"}}


def replicas_seen(c) -> dict:
    table = c.describe_table(TableName=TABLE)["Table"]
    return {replica["RegionName"]: replica["ReplicaStatus"] for replica in table.get("Replicas", [])}


def wait_until(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def update(c, *updates):
    return c.update_table(TableName=TABLE, ReplicaUpdates=list(updates))


def refused(c, *updates) -> str:
    with pytest.raises(ClientError) as caught:
        update(c, *updates)
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ValidationException", error
    return error["Error"]["Message"]


def raw_update_table(url: str, body: dict) -> tuple[int, dict]:
    """UpdateTable as raw JSON over HTTP: what botocore refuses to send, another client may."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.UpdateTable",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=x/20200101/{US}/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_invalid_replica_updates_answer_a_json_validation_exception_and_change_nothing(clients, moto_url):
    us = clients[US]
    music_table(us)
    assert "Update" in refused(us, {"Update": {"RegionName": EU}})
    assert "xx-nowhere-1" in refused(us, {"Create": {"RegionName": "xx-nowhere-1"}})
    message = refused(us, {"Create": {"RegionName": "sa-east-1"}})  # a real region this cloud does not run
    assert "sa-east-1" in message and "cannot start" in message
    assert US in refused(us, {"Create": {"RegionName": US}})  # the table's own region is a replica already
    refused(us, {"Create": {"RegionName": EU}}, {"Delete": {"RegionName": EU}})
    refused(us, {"Delete": {"RegionName": EU}})  # not a replica
    for updates in (
        [{"Create": {}}],
        [{"Create": {"RegionName": EU}, "Delete": {"RegionName": EU}}],
        [],
        [{}],
    ):
        status, answer = raw_update_table(moto_url, {"TableName": TABLE, "ReplicaUpdates": updates})
        assert status == 400 and answer["__type"].endswith("#ValidationException"), answer
    status, answer = raw_update_table(moto_url, {"TableName": TABLE, "ReplicaUpdates": ["Create"]})
    # a string where an object belongs
    assert status == 400 and answer["__type"].endswith("#SerializationException"), answer
    with pytest.raises(ClientError) as caught:
        clients[US].update_table(TableName="NoSuchTable", ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    table = us.describe_table(TableName=TABLE)["Table"]
    assert "Replicas" not in table and "GlobalTableVersion" not in table
    assert "LatestStreamArn" not in table  # a refused request turns no stream on


def test_a_stream_without_old_and_new_images_is_refused(clients):
    music_table(clients[US], stream=True)
    assert "NEW_AND_OLD_IMAGES" in refused(clients[US], {"Create": {"RegionName": EU}})


def test_create_request_copies_keys_billing_and_simple_indexes(clients):
    music_table(clients[US])
    request = create_request(clients[US].describe_table(TableName=TABLE)["Table"])
    assert request["BillingMode"] == "PROVISIONED"
    assert request["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert [index["IndexName"] for index in request["GlobalSecondaryIndexes"]] == ["ByAlbum"]
    clients[EU].create_table(**request)  # moto takes it as it is
    assert clients[EU].describe_table(TableName=TABLE)["Table"]["KeySchema"] == request["KeySchema"]


@pytest.fixture
def fleet(clients, door_url, tmp_path):
    for c in clients.values():
        c.create_table(**table_definition("keyvalues"))
    config = {
        "table": "keyvalues",
        "regions": {region: f"{door_url}/{region}" for region in REGIONS},
        "state_dir": str(tmp_path / "state"),
        "network": "none",
        "delay": 0,
        "poll_interval_ms": 10,
    }
    started = Fleet(config)
    started.start()
    yield started
    started.stop()


def holds(c, items) -> bool:
    return all(
        "Item" in c.get_item(TableName=TABLE, Key={k: item[k] for k in ("Artist", "SongTitle")})
        for item in items
    )


def test_update_table_makes_any_table_global_and_a_delete_removes_a_replica(clients, fleet):
    us, eu, ap = clients[US], clients[EU], clients[AP]
    music_table(us)
    earlier = [song("Acme Band", f"Song {n}") for n in range(120)]  # written before the table had a stream
    for item in earlier:
        us.put_item(TableName=TABLE, Item=item)

    started = time.monotonic()
    answer = update(us, {"Create": {"RegionName": EU}})["TableDescription"]
    assert answer["GlobalTableVersion"] == "2019.11.21"
    assert {r["RegionName"]: r["ReplicaStatus"] for r in answer["Replicas"]} == {US: "ACTIVE", EU: "CREATING"}
    assert answer["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    pair = {US: "ACTIVE", EU: "ACTIVE"}
    assert wait_until(
        lambda: TABLE in eu.list_tables()["TableNames"] and replicas_seen(eu) == replicas_seen(us) == pair
    )
    assert holds(eu, earlier), "the new replica holds every item written before update-table"
    assert time.monotonic() - started < 10
    assert eu.describe_table(TableName=TABLE)["Table"]["GlobalSecondaryIndexes"][0]["IndexName"] == "ByAlbum"

    us.put_item(TableName=TABLE, Item=song("Acme Band", "From us"))
    eu.put_item(TableName=TABLE, Item=song("Acme Band", "From eu"))
    assert wait_until(
        lambda: holds(eu, [song("Acme Band", "From us")]) and holds(us, [song("Acme Band", "From eu")])
    )

    update(eu, {"Create": {"RegionName": AP}})  # asked in the new replica: any replica can change the group
    both = {US: "ACTIVE", EU: "ACTIVE", AP: "ACTIVE"}
    assert wait_until(lambda: all(replicas_seen(c) == both for c in (us, eu, ap)))
    assert holds(ap, earlier + [song("Acme Band", "From us"), song("Acme Band", "From eu")])

    update(us, {"Delete": {"RegionName": EU}})
    assert wait_until(lambda: TABLE not in eu.list_tables()["TableNames"])
    assert wait_until(lambda: replicas_seen(us) == replicas_seen(ap) == {US: "ACTIVE", AP: "ACTIVE"})
    us.put_item(TableName=TABLE, Item=song("Acme Band", "After the delete"))
    assert wait_until(lambda: holds(ap, [song("Acme Band", "After the delete")]))
    assert sorted(fleet.status()["tables"][TABLE]["regions"]) == [AP, US]

    update(ap, {"Delete": {"RegionName": AP}})  # the last but one: a regional table again
    assert wait_until(lambda: TABLE not in ap.list_tables()["TableNames"] and replicas_seen(us) == {})
    assert "GlobalTableVersion" not in us.describe_table(TableName=TABLE)["Table"]
    assert wait_until(lambda: TABLE not in fleet.status()["tables"])
    # untouched: this test never made keyvalues global
    assert "Replicas" not in clients[US].describe_table(TableName="keyvalues")["Table"]


def test_a_restarted_replicator_finds_the_groups_and_the_intents_recorded_while_it_was_down(clients, fleet):
    us, eu, ap = clients[US], clients[EU], clients[AP]
    music_table(us)
    update(us, {"Create": {"RegionName": EU}})
    pair = {US: "ACTIVE", EU: "ACTIVE"}
    assert wait_until(
        lambda: TABLE in eu.list_tables()["TableNames"] and replicas_seen(us) == replicas_seen(eu) == pair
    )
    fleet.stop()

    us.put_item(TableName=TABLE, Item=song("Down", "Written while it was down"))
    update(eu, {"Create": {"RegionName": AP}})  # recorded by the region alone: nobody carries it out yet
    assert replicas_seen(eu)[AP] == "CREATING"
    restarted = Fleet(fleet.config)
    restarted.start()
    try:
        everywhere = {US: "ACTIVE", EU: "ACTIVE", AP: "ACTIVE"}
        assert wait_until(lambda: all(replicas_seen(c) == everywhere for c in (us, eu, ap)))
        assert wait_until(lambda: holds(ap, [song("Down", "Written while it was down")]))
        assert wait_until(lambda: holds(eu, [song("Down", "Written while it was down")]))
    finally:
        restarted.stop()

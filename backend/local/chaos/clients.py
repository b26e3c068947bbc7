"""The clients' side of a fault run: one keep-alive connection per thread, recorded writes and reads, and the
scan of a region's table that tells when the regions agree.

Every call says what happened in the history's terms: ``ok``, ``fail`` (certainly not applied) or ``info``
(maybe applied), so that the checker never counts an indeterminate write as lost or as never written.
"""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import quote, urlsplit

from backend.local.chaos.history import History
from backend.local.contracts import ITEM_VERSION_HEADER, TABLE_NAME

REQUEST_TIMEOUT_S = 5.0


class Endpoint:
    """One keep-alive HTTP/1.1 connection to a base URL, for one thread. ``call`` says what happened:

    ("ok", status, document) when an answer came (``last_headers`` then holds its headers); ("fail", None, reason) when the request certainly never reached
    the server (refused or no connection); ("info", None, reason) when it may have (timeout, reset after sending)."""

    def __init__(self, base_url: str, timeout: float = REQUEST_TIMEOUT_S):
        parts = urlsplit(base_url)
        self.host, self.port, self.prefix = parts.hostname, parts.port, parts.path.rstrip("/")
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None
        self.last_headers: dict[str, str] = {}

    def call(self, method: str, key: str, body: dict | None = None):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.connection.connect()
            except OSError as error:
                self.close()
                return "fail", None, f"connect: {type(error).__name__}"
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload else {}
        try:
            self.connection.request(
                method, f"{self.prefix}/{quote(key, safe='')}", body=payload, headers=headers
            )
            response = self.connection.getresponse()
            raw = response.read()
            self.last_headers = {name.lower(): value for name, value in response.getheaders()}
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return "info", None, type(error).__name__
        try:
            document = json.loads(raw) if raw else {}
        except ValueError:
            document = {"raw": raw[:200].decode(errors="replace")}
        return "ok", response.status, document

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def write(history: History, endpoint: Endpoint, process: str, op: int, target: str, key: str, value: str):
    """One recorded write. A 200 is ok; a 4xx certainly wrote nothing (fail); a 5xx may have (info)."""
    base = {"process": process, "op": op, "f": "write", "key": key, "value": value, "target": target}
    history.record(type="invoke", **base)
    outcome, status, document = endpoint.call("POST", key, {"value": value})
    if outcome == "ok" and status == 200:
        return history.record(
            type="ok", region=document.get("region"), writtenAt=document.get("writtenAt"),
            version=endpoint.last_headers.get(ITEM_VERSION_HEADER.lower()), **base,
        )  # fmt: skip
    if outcome == "ok":
        kind = "fail" if status < 500 else "info"
        return history.record(type=kind, error=f"HTTP {status}", **base)
    return history.record(type=outcome, error=document, **base)


def direct_write(history: History, dynamodb, process: str, op: int, region: str, key: str, value: str, update: bool):
    """One recorded write straight to a region's DynamoDB endpoint, as the AWS CLI makes it: a PutItem of key and value
    only, or an UpdateItem (SET value, ADD n) of whatever the region holds. No version comes back: the call's start
    and end (µs, this machine's clock, which the region stamps with) bound it."""
    base = {"process": process, "op": op, "f": "write", "key": key, "value": value, "target": region,
            "via": "dynamodb", "region": region}  # fmt: skip
    history.record(type="invoke", **base)
    t0 = time.time_ns() // 1000
    try:
        if update:
            dynamodb.update_item(TableName=TABLE_NAME, Key={"key": {"S": key}}, UpdateExpression="SET #v = :v ADD n :one",
                                 ExpressionAttributeNames={"#v": "value"},
                                 ExpressionAttributeValues={":v": {"S": value}, ":one": {"N": "1"}})  # fmt: skip
        else:
            dynamodb.put_item(TableName=TABLE_NAME, Item={"key": {"S": key}, "value": {"S": value}})
    except dynamodb.exceptions.ClientError as error:  # an answer: a 4xx wrote nothing, a 5xx may have
        kind = "fail" if 400 <= error.status < 500 else "info"
        return history.record(type=kind, error=f"HTTP {error.status} {error.code}", **base)
    except ConnectionRefusedError as error:
        return history.record(type="fail", error=type(error).__name__, **base)
    except (OSError, http.client.HTTPException) as error:  # a timeout or a reset after sending: it may have happened
        return history.record(type="info", error=type(error).__name__, **base)
    return history.record(type="ok", t0_us=t0, t1_us=time.time_ns() // 1000, **base)


def read(history: History, endpoint: Endpoint, process: str, op: int, target: str, key: str):
    """One recorded read: a 200 or a 404 is ok (a 404 reads nothing: value null); anything else failed."""
    base = {"process": process, "op": op, "f": "read", "key": key, "target": target}
    history.record(type="invoke", **base)
    outcome, status, document = endpoint.call("GET", key)
    if outcome == "ok" and status == 200:
        return history.record(
            type="ok", value=document.get("value"), region=document.get("readRegion"),
            writtenAt=document.get("writtenAt"), writeRegion=document.get("writeRegion"), **base,
        )  # fmt: skip
    if outcome == "ok" and status == 404:
        return history.record(type="ok", value=None, region=target if target != "global" else None, **base)
    return history.record(type="fail", error=f"HTTP {status}" if outcome == "ok" else document, **base)


def strong_reader(url: str, region: str):
    """A boto3 DynamoDB client of one region that never retries: botocore retries ReplicatedWriteConflictException
    and 5xx answers by default, and a fault run must see each outcome as it is. One per thread (own session)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "dynamodb", region_name=region, endpoint_url=url, aws_access_key_id="local", aws_secret_access_key="local",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=REQUEST_TIMEOUT_S,
                      read_timeout=REQUEST_TIMEOUT_S, max_pool_connections=1),
    )  # fmt: skip


def strong_read(history: History, dynamodb, process: str, op: int, region: str, key: str):
    """One recorded strongly consistent read (GetItem ConsistentRead=True straight to a region's DynamoDB): ok with
    the item's value or null; an error answer is ``fail``, no answer (a timeout) ``info``: a read changes nothing."""
    from botocore.exceptions import BotoCoreError, ClientError

    base = {"process": process, "op": op, "f": "read", "consistent": True, "key": key, "target": region}
    history.record(type="invoke", **base)
    try:
        item = dynamodb.get_item(TableName=TABLE_NAME, Key={"key": {"S": key}}, ConsistentRead=True).get("Item")
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return history.record(type="fail", error=f"HTTP {status} {error.response['Error'].get('Code')}", **base)
    except BotoCoreError as error:
        return history.record(type="info", error=type(error).__name__, **base)
    value = item.get("value", {}).get("S") if item else None
    return history.record(type="ok", value=value, region=region, **base)


def scan_table(client) -> dict[str, dict]:
    """One region's table, every item as {key: {"value", "region", "writtenAt"}} (consistent reads)."""
    items, start = {}, None
    while True:
        page = client.scan(TableName=TABLE_NAME, ConsistentRead=True,
                           **({"ExclusiveStartKey": start} if start else {}))  # fmt: skip
        for item in page.get("Items", []):
            items[item["key"]["S"]] = {
                "value": item.get("value", {}).get("S"),
                "region": item.get("region", {}).get("S"),
                "writtenAt": int(item["writtenAt"]["N"]) if "writtenAt" in item else None,
            }
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def scan_versions(door_url: str, region: str, table: str = TABLE_NAME) -> dict[str, str]:
    """Every item's hidden version in one region, {key: "ts_us:region"}, through the region's replicator door."""
    from backend.local.replication.wire import REPLICATION, WireClient

    door = WireClient(door_url, region, REPLICATION, timeout_s=15.0)
    found, start = {}, None
    try:
        while True:
            page = door.scan_versions(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
            for item, version in zip(page["Items"], page["Versions"], strict=True):
                found[item["key"]["S"]] = version
            start = page.get("LastEvaluatedKey")
            if not start:
                return found
    finally:
        door.close()

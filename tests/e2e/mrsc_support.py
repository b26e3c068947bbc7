"""What the MRSC end-to-end tests share: a boto3 client of one region that never retries (a conflict or an
isolated region shows at once: botocore retries ``ReplicatedWriteConflictException`` otherwise, as its
``data/_retry.json`` says), the API's writes with their hidden versions, and reads of every region."""

from __future__ import annotations

import requests
from cloud_clients import local_client

from backend.local.contracts import ITEM_VERSION_HEADER, TABLE_NAME
from backend.local.dynamodb.versions import from_text

US_SET = ["us-east-1", "us-east-2", "us-west-2"]


def client(cloud, region: str):
    return local_client(cloud, region, retries={"total_max_attempts": 1}, read_timeout=20)


def error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)


def api_write(session: requests.Session, cloud, region: str, key: str, value: str):
    """(HTTP status, the hidden version of an acknowledged write or None)."""
    answer = session.post(f"{cloud.endpoints['regions'][region]}/{key}", json={"value": value}, timeout=30)
    version = answer.headers.get(ITEM_VERSION_HEADER)
    return answer.status_code, from_text(version) if answer.status_code == 200 and version else None


def strong_value(db, key: str) -> str | None:
    item = db.get_item(TableName=TABLE_NAME, Key={"key": {"S": key}}, ConsistentRead=True).get("Item")
    return item["value"]["S"] if item else None


def eventual_value(db, key: str) -> str | None:
    item = db.get_item(TableName=TABLE_NAME, Key={"key": {"S": key}}).get("Item")
    return item["value"]["S"] if item else None

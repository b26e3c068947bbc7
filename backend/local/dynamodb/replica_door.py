"""What the replicator needs from a region beyond DynamoDB's own API, and the moto hooks that keep hidden versions.

``install()`` wraps moto's ``StreamShard.add`` (every change of an item of a table with a stream, whatever the client
and the operation) so that ``versions.on_change`` stamps it and its stream record carries the version (and is kept
as compact JSON text), and ``StreamRecord.to_json`` so that the version shows only inside ``versions.revealed()``
(the door; never a client).

The door's own operations (``X-Amz-Target: MrkvReplication_20261201.<Operation>``, JSON in and out, as DynamoDB's):

- ``ApplyChanges`` {TableName, Changes: [{Keys, Item | null, Version}]} → {Applied: [bool], Errors: [str | null]}:
  each change is written only if its version is newer than what the region holds for the key (item or tombstone),
  checked and written under the write lock, so no local write slips in between. A delete of an absent item still
  leaves its tombstone.
- ``GetRecords`` {ShardIterator, Limit?}: DynamoDB Streams' GetRecords with each record's hidden ``mrkv``
  {version, replica}, and its errors (``ExpiredIteratorException``, ``TrimmedDataAccessException``, 400). moto's own answer cannot carry it: moto serializes by the service model, which drops fields it
  does not know.
- ``ScanVersions`` {TableName, ExclusiveStartKey?, Limit?} → a Scan page with ``Versions`` (one per item) and
  ``KeyAttributes``, and on the last page ``Tombstones`` [{Keys, Version}]: what a backfill copies, each item with the version it has here.
- ``StrongAccept`` and ``StrongRead``: another region's strongly consistent write and read of an MRSC table
  (``strong_door.py``); 503 while this region is isolated.
- ``ListReplicaIntents`` {} → {Tables: [{TableName, Replicas: {region: status}, Intents: [{Id, Action, RegionName}]}]}
  and ``SetReplicas`` {TableName, Replicas, DoneIntents?}: the replica groups of global tables (``replicas.py``), read
  and published by the replicator's membership loop.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime

from backend.local.dynamodb import replicas, strong_door, versioned_writes, versions
from backend.local.dynamodb.patches import DEFAULT_ACCOUNT_ID, WRITE_LOCK

TARGET_PREFIX = "MrkvReplication_20261201"
_MARK = "_mrkv_versions_hook"


def install() -> int:
    """Installs the two hooks (idempotent); returns how many were installed now."""
    from moto.dynamodb.models.table import StreamRecord, StreamShard

    installed = 0
    add = StreamShard.add
    if not getattr(add, _MARK, False):

        @functools.wraps(add)
        def add_with_version(self, old, new):
            capture = versions.capture_of_thread()
            if capture is not None:  # a strongly consistent write's trial run: nothing is recorded yet
                capture.see(old, new)
                return
            with WRITE_LOCK:
                version, replica = versions.on_change(self.table, old, new)
                add(self, old, new)
                if self.items:
                    record = self.items[-1]
                    record.mrkv = (versions.as_text(version), replica)
                    _compact(record)

        setattr(add_with_version, _MARK, True)
        StreamShard.add = add_with_version
        installed += 1
    to_json = StreamRecord.to_json
    if not getattr(to_json, _MARK, False):

        @functools.wraps(to_json)
        def to_json_revealing(self):
            record = _expanded(self) if hasattr(self, "compact") else to_json(self)
            hidden = getattr(self, "mrkv", None)
            if hidden is None or not versions.is_revealed():
                return record
            return {**record, "mrkv": {"version": hidden[0], "replica": hidden[1]}}

        setattr(to_json_revealing, _MARK, True)
        StreamRecord.to_json = to_json_revealing
        installed += 1
    return installed


def _compact(record) -> None:
    """Keeps a stream record as its JSON text: moto's dict of both images costs ~3.3 KB of RSS a record of the app's
    items, the text ~0.7 KB, and records are kept 24 hours (``stream_retention.py``) but read a few times at most.
    The creation time stays a datetime beside it, as moto's serializer wants it."""
    body = record.record["dynamodb"]
    created = body.get("ApproximateCreationDateTime")
    rest = {name: value for name, value in body.items() if name != "ApproximateCreationDateTime"}
    record.compact = (json.dumps({**record.record, "dynamodb": rest}), created)
    del record.record


def _expanded(record) -> dict:
    text, created = record.compact
    answer = json.loads(text)
    if created is not None:
        answer["dynamodb"]["ApproximateCreationDateTime"] = created
    return answer


def answer(region: str, operation: str, body: bytes) -> tuple[int, bytes]:
    """One door operation of ``region``: (HTTP status, JSON answer)."""
    status, document = _answer(region, operation, body)
    return status, json.dumps(document, default=_epoch_seconds).encode()


def _answer(region: str, operation: str, body: bytes) -> tuple[int, dict]:
    from moto.core.exceptions import JsonRESTError

    try:
        request = json.loads(body or b"{}")
        handler = {
            "ApplyChanges": apply_changes,
            "GetRecords": get_records,
            "ScanVersions": scan_versions,
            "ListReplicaIntents": list_replica_intents,
            "SetReplicas": set_replicas,
            "StrongAccept": strong_door.accept,
            "StrongRead": strong_door.read_for_peer,
        }[operation]
        return 200, handler(region, request)
    except strong_door.Isolated:
        return 503, _error("ServiceUnavailable", "this region is isolated from the others (control API)")
    except JsonRESTError as error:  # as moto's server answers it (e.g. ExpiredIteratorException, 400)
        return error.code, {"__type": error.error_type, "message": error.message}
    except KeyError as error:
        return 400, _error("ValidationException", f"missing or unknown: {error}")
    except ValueError as error:
        return 400, _error("ValidationException", str(error))
    except LookupError as error:
        return 400, _error("ResourceNotFoundException", str(error))


def _error(code: str, message: str) -> dict:
    return {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}


def _backend_and_table(region: str, name: str):
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
    table = backend.tables.get(name)
    if table is None:
        raise LookupError(f"Requested resource not found: Table: {name} not found")
    return backend, table


def apply_changes(region: str, request: dict) -> dict:
    name = request["TableName"]
    backend, table = _backend_and_table(region, name)
    applied, errors = [], []
    for change in request["Changes"]:
        version = versions.from_text(change["Version"])
        keys, item = change["Keys"], change.get("Item")
        try:
            applied.append(versioned_writes.apply_versioned(backend, table, name, keys, item, version))
            errors.append(None)
        except Exception as error:  # a change moto refuses (e.g. a key of the wrong type): said, never retried
            applied.append(False)
            errors.append(f"{type(error).__name__}: {error}")
    return {"Applied": applied, "Errors": errors}


def list_replica_intents(region: str, request: dict) -> dict:
    from moto.dynamodb.models import dynamodb_backends

    with WRITE_LOCK:  # UpdateTable records intents under it: never half a group
        return replicas.list_intents(dynamodb_backends[DEFAULT_ACCOUNT_ID][region])


def set_replicas(region: str, request: dict) -> dict:
    _backend, table = _backend_and_table(region, request["TableName"])
    with WRITE_LOCK:
        return replicas.set_replicas(table, request)


def get_records(region: str, request: dict) -> dict:
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    streams = dynamodbstreams_backends[DEFAULT_ACCOUNT_ID][region]
    with versions.revealed():  # a freed iterator, a trimmed record: the JSON errors of stream_reads.py
        answer = streams.get_records(request["ShardIterator"], int(request.get("Limit") or 1000))
    return answer


def _epoch_seconds(value):
    """JSON for what moto hands back: datetimes (ApproximateCreationDateTime, naive UTC) and DynamoTypes (keys)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if hasattr(value, "to_json"):
        return value.to_json()
    raise TypeError(f"{type(value).__name__} is not JSON")


def scan_versions(region: str, request: dict) -> dict:
    backend, table = _backend_and_table(region, request["TableName"])
    start = request.get("ExclusiveStartKey")
    limit = int(request.get("Limit", 1000))
    with WRITE_LOCK:  # the page and its versions are one moment of the table
        items, _scanned, last = backend.scan(
            request["TableName"], {}, limit, start, None, {}, {}, None, True, None, (None, None)
        )
        held = versions.table_versions(table)
        page = [item.to_json()["Attributes"] for item in items]
        answer = {
            "KeyAttributes": [name for name in (table.hash_key_attr, table.range_key_attr) if name],
            "Items": page,
            "Versions": [_text(held.live.get(versions.key_of(table, item))) for item in items],
        }
        if last:
            answer["LastEvaluatedKey"] = last
        else:
            answer["Tombstones"] = [
                {"Keys": _keys_json(table, key), "Version": versions.as_text(version)}
                for key, version in held.tombstones.items()
            ]
    return answer


def _text(version) -> str | None:
    return versions.as_text(version) if version is not None else None


def _keys_json(table, key) -> dict:
    if table.range_key_attr is None:
        return {table.hash_key_attr: {table.hash_key_type: key}}
    return {
        table.hash_key_attr: {table.hash_key_type: key[0]},
        table.range_key_attr: {table.range_key_type: key[1]},
    }

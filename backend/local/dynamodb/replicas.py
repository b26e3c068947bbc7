"""Replicas of version 2019.11.21 global tables, as a region sees them: the metadata DescribeTable shows and the
intents UpdateTable records. The replicator carries the intents out (``backend/local/replication/membership.py``).

Why the region records an intent instead of acting: creating a replica touches other regions (a table there, a
backfill, every replica's metadata), which only the replicator reaches. So ``UpdateTable`` with ``ReplicaUpdates``
checks the request at once (the region knows the cloud's regions from its command line), records, under the write
lock, the new replica as ``CREATING`` (or ``DELETING``) and an intent on the table itself, and answers as AWS does;
the replicator finds intents by polling each region's door (``ListReplicaIntents``) and publishes the outcome to
every replica (``SetReplicas``). Nothing new to wire: a region learns the group from the replicator's calls.

Kept on moto's ``Table`` object (as the hidden versions are): a recreated table starts as a regional table, a
deleted one takes its metadata along. ``install()`` adds ``Replicas`` and ``GlobalTableVersion`` to every table
description (DescribeTable, CreateTable, UpdateTable, DeleteTable answers) and checks ``ReplicaUpdates``.

AWS documents (API reference: UpdateTable, TableDescription, ReplicaDescription; Developer Guide: "Global tables:
how it works"): a replica is added or removed with ``UpdateTable`` ``ReplicaUpdates`` ``Create``/``Delete``; the
table needs a stream of new and old images, which DynamoDB enables itself; ``DescribeTable`` lists ``Replicas``
with ``RegionName`` and ``ReplicaStatus`` and says ``GlobalTableVersion: "2019.11.21"``.
"""

from __future__ import annotations

import functools
import itertools

from backend.local.dynamodb import strong, versions

GLOBAL_TABLE_VERSION = "2019.11.21"
ACTIVE, CREATING, DELETING = "ACTIVE", "CREATING", "DELETING"
NEW_AND_OLD = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_MARK = "_mrkv_replicas_hook"
_ids = itertools.count(1)


class _Cloud:
    """The regions this local cloud runs (``--cloud-regions`` of the region process; empty: not known)."""

    regions: tuple[str, ...] = ()


_cloud = _Cloud()


def set_cloud_regions(regions) -> None:
    _cloud.regions = tuple(regions)


def cloud_regions() -> tuple[str, ...]:
    return _cloud.regions


@functools.cache
def aws_regions() -> frozenset[str]:
    """The regions DynamoDB has on AWS, from botocore's endpoint data (what an unknown region code is checked on)."""
    import boto3

    return frozenset(boto3.session.Session().get_available_regions("dynamodb"))


# -- the metadata on moto's table -----------------------------------------------------------------------------


def replicas_of(table) -> dict[str, str]:
    """Region → ReplicaStatus; empty for a regional (not global) table."""
    return dict(getattr(table, "mrkv_replicas", None) or {})


def intents_of(table) -> list[dict]:
    return list(getattr(table, "mrkv_intents", None) or [])


def mark_global(table, regions) -> None:
    """Makes ``table`` a global table of ``regions``, all ACTIVE (the local cloud's own table at start)."""
    table.mrkv_replicas = {region: ACTIVE for region in regions}


def description(table) -> dict:
    """What a global table's TableDescription adds (nothing for a regional table)."""
    replicas = replicas_of(table)
    if not replicas:
        return strong.description(table, is_global=False)
    listed = [{"RegionName": region, "ReplicaStatus": status} for region, status in sorted(replicas.items())]
    extra = {"Replicas": listed, "GlobalTableVersion": GLOBAL_TABLE_VERSION, **strong.description(table, True)}
    if replicas.get(table.region_name) == CREATING:
        extra["TableStatus"] = "CREATING"  # the new replica is not ready before its backfill ends
    return extra


# -- UpdateTable with ReplicaUpdates -------------------------------------------------------------------------


def parse_updates(updates, own: str, replicas: dict[str, str], cloud) -> list[tuple[str, str]]:
    """The (action, region) pairs of a ReplicaUpdates list; ValueError (a ValidationException) when invalid."""
    if not isinstance(updates, list) or not updates:
        raise ValueError("ReplicaUpdates must be a list of at least one replica update")
    actions = [_one_update(update) for update in updates]
    regions = [region for _action, region in actions]
    if len(set(regions)) != len(regions):
        raise ValueError(
            "One or more parameter values were invalid: a region appears in more than one replica update"
        )
    group = replicas or {own: ACTIVE}
    for action, region in actions:
        _check_region(action, region, group, cloud)
    return actions


def _one_update(update) -> tuple[str, str]:
    if (
        not isinstance(update, dict)
        or len(update) != 1
        or next(iter(update)) not in ("Create", "Delete", "Update")
    ):
        raise ValueError("Each replica update must have exactly one of Create, Update or Delete")
    action, member = next(iter(update.items()))
    if action == "Update":
        raise ValueError(
            "The local cloud does not emulate replica Update (per-replica throughput, KMS key, table class or index "
            "overrides): its replicas follow the source table"
        )
    region = member.get("RegionName") if isinstance(member, dict) else None
    if not isinstance(region, str) or not region:
        raise ValueError(f"{action}: RegionName is required")
    return action, region


def _check_region(action: str, region: str, group: dict[str, str], cloud) -> None:
    if region not in aws_regions():
        raise ValueError(f"Invalid region: {region} is not a DynamoDB region")
    if action == "Create":
        if region in group:
            raise ValueError(f"Failed to create a replica in {region}: the table already has a replica there")
        if cloud and region not in cloud:
            raise ValueError(
                f"The local cloud runs {', '.join(cloud)} and cannot start {region} while it runs (AWS would create "
                "the replica there): start it with that region to replicate to it"
            )
    elif region not in group:
        raise ValueError(f"Failed to delete the replica in {region}: the table has no replica there")


def record_updates(table, updates) -> None:
    """Checks ``updates`` and records them on ``table``: the group's new statuses and the intents the replicator
    carries out. Call under the write lock (no write slips in between the stream and the versions)."""
    replicas = replicas_of(table)
    actions = parse_updates(updates, table.region_name, replicas, cloud_regions())
    _ensure_stream(table)
    _stamp_unversioned(table)
    group = replicas or {table.region_name: ACTIVE}
    intents = intents_of(table)
    for action, region in actions:
        group[region] = CREATING if action == "Create" else DELETING
        intents.append({"Id": f"{table.region_name}-{next(_ids)}", "Action": action, "RegionName": region})
    table.mrkv_replicas, table.mrkv_intents = group, intents


def _ensure_stream(table) -> None:
    """Replication reads the stream: AWS turns one on (new and old images) for a table that has none."""
    spec = table.stream_specification or {}
    if not spec.get("StreamEnabled"):
        table.set_stream_specification(dict(NEW_AND_OLD))
    elif spec.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
        raise ValueError(
            "A global table's stream must show new and old images (StreamViewType NEW_AND_OLD_IMAGES), "
            f"not {spec.get('StreamViewType')}"
        )


def _stamp_unversioned(table) -> None:
    """Items written before the table had a stream carry no hidden version: give them one now, so that the
    backfill copies them (a replica orders writes only by versions)."""
    held = versions.table_versions(table)
    now = versions.now_us()
    for item in table.all_items():
        held.live.setdefault(versions.key_of(table, item), (now, table.region_name))


def strong_request(table, updates, consistency, witness_updates) -> list[str] | None:
    """The witnesses of an UpdateTable that makes ``table`` an MRSC global table, or None (not such a request);
    ValueError when AWS refuses it (``strong.py``)."""
    if consistency is None and witness_updates is None:
        if strong.is_strong(table) and updates:
            raise ValueError("The local cloud does not emulate adding or removing replicas of an MRSC global table")
        return None
    if consistency is not None:
        strong.check_consistency(consistency)
    if replicas_of(table) or strong.is_strong(table):
        raise ValueError(
            "The consistency mode of a global table is chosen when its first replicas are added and cannot change"
        )
    if consistency != strong.STRONG:
        if witness_updates:
            raise ValueError("GlobalTableWitnessUpdates needs MultiRegionConsistency STRONG")
        return None
    creates = [
        update["Create"].get("RegionName")
        for update in (updates or [])
        if isinstance(update, dict) and isinstance(update.get("Create"), dict)
    ]
    if not creates:
        raise ValueError("MultiRegionConsistency is only valid with ReplicaUpdates that create replicas")
    witnesses = _witness_creates(witness_updates)
    strong.check_group([table.region_name, *creates], witnesses)
    strong.check_can_become_strong(table)
    return witnesses


def _witness_creates(witness_updates) -> list[str]:
    if witness_updates is None:
        return []
    if not isinstance(witness_updates, list) or not all(
        isinstance(u, dict) and list(u) == ["Create"] and isinstance(u["Create"], dict) for u in witness_updates
    ):
        raise ValueError("GlobalTableWitnessUpdates must be a list of {\"Create\": {\"RegionName\": ...}}")
    regions = [update["Create"].get("RegionName") for update in witness_updates]
    for region in regions:
        if region not in aws_regions():
            raise ValueError(f"Invalid region: {region} is not a DynamoDB region")
    return regions


# -- the door's operations (replica_door.py dispatches them) -------------------------------------------------


def list_intents(backend) -> dict:
    """``ListReplicaIntents``: every global table of the region (or one with intents), with its group and intents."""
    tables = []
    for name, table in list(backend.tables.items()):
        replicas, intents = replicas_of(table), intents_of(table)
        if replicas or intents:
            entry = {"TableName": name, "Replicas": replicas, "Intents": intents}
            tables.append({**entry, "Strong": strong.strong_document(table)})
    return {"Tables": tables}


def set_replicas(table, request: dict) -> dict:
    """``SetReplicas`` {Replicas: {region: status}, DoneIntents: [id]}: the group as the replicator published it;
    intents recorded since it read them stay, and so do their statuses."""
    done = set(request.get("DoneIntents") or [])
    group = dict(request["Replicas"])
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in group.items()):
        raise ValueError("Replicas must map region names to statuses")
    left = [intent for intent in intents_of(table) if intent["Id"] not in done]
    for intent in left:
        group[intent["RegionName"]] = CREATING if intent["Action"] == "Create" else DELETING
    table.mrkv_replicas, table.mrkv_intents = group, left
    strong.set_from_document(table, request.get("Strong"))  # an MRSC table's new replica is MRSC too
    return {"Replicas": group}


# -- moto hooks ----------------------------------------------------------------------------------------------


def install(write_lock) -> int:
    """Wraps ``Table.describe`` and ``DynamoHandler.update_table`` (idempotent); returns how many were wrapped."""
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    installed = 0
    if not getattr(Table.describe, _MARK, False):
        Table.describe = _mark(_describing(Table.describe))
        installed += 1
    if not getattr(DynamoHandler.update_table, _MARK, False):
        DynamoHandler.update_table = _mark(_updating(DynamoHandler.update_table, write_lock))
        installed += 1
    return installed


def _mark(function):
    setattr(function, _MARK, True)
    return function


def _describing(describe):
    @functools.wraps(describe)
    def describe_with_replicas(self, base_key: str = "TableDescription"):
        result = describe(self, base_key)
        result[base_key].update(description(self))
        return result

    return describe_with_replicas


def _updating(update_table, write_lock):
    @functools.wraps(update_table)
    def update_table_with_replicas(handler):
        updates = handler.body.get("ReplicaUpdates")
        consistency = handler.body.get("MultiRegionConsistency")
        witness_updates = handler.body.get("GlobalTableWitnessUpdates")
        if updates is not None or consistency is not None or witness_updates is not None:
            with write_lock:
                table = handler.dynamodb_backend.get_table(handler.body["TableName"])  # not found: moto's 400
                try:
                    witnesses = strong_request(table, updates, consistency, witness_updates)
                    if updates is not None:
                        record_updates(table, updates)
                    if witnesses is not None:
                        strong.mark_strong(table, witnesses)
                except ValueError as error:
                    from moto.core.exceptions import JsonRESTError

                    raise JsonRESTError(ERROR_PREFIX + "ValidationException", str(error)) from None
        return update_table(handler)

    return update_table_with_replicas

"""The other regions' questions about MRSC tables, answered by this region's door (``X-Amz-Target:
MrkvReplication_20261201.StrongAccept`` / ``StrongRead``, dispatched by ``replica_door.py``): accept a proposed write
or refuse it (pending, newer, late), and tell the newest version of a key. What the questions are for:
``strong_protocol.py``.

A **witness** is a region that holds no table: it keeps, per key, the version and image it accepted
(``_WitnessLog``), accepts and answers as a replica does, and serves no client.
"""

from __future__ import annotations

import threading

from backend.local.dynamodb import strong_peers, strong_protocol, versions
from backend.local.dynamodb.write_lock import WRITE_LOCK


class Isolated(Exception):
    """This region answers no peer (the door answers 503)."""


class _WitnessLog:
    """What a witness region keeps: (table, key) → (version, image or None)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: dict = {}


_witness = _WitnessLog()


def forget_witness_log() -> None:
    """A reset of the cloud: the witness forgets what it accepted, as the replicas drop their tables."""
    with _witness.lock:
        _witness.entries.clear()


def accept(region: str, request: dict) -> dict:
    """``StrongAccept``: applies the proposed change if nothing newer is held and no write of the key is pending."""
    if strong_peers.is_isolated():
        raise Isolated()
    table = _table_or_none(region, request["TableName"])
    keys, item = request["Keys"], request.get("Item")
    base = versions.from_text(request["Base"]) if request.get("Base") else None
    version = versions.from_text(request["Version"])
    priority = versions.from_text(request["Priority"]) if request.get("Priority") else None
    if table is None:
        return _witness_accept(request, keys, base, version, item)
    with strong_protocol.guards.cond:
        if not strong_protocol.guards.clear_for(strong_protocol.token(table.name, keys), priority):
            return {"Accepted": False, "Reason": "pending"}
        with WRITE_LOCK:
            if strong_protocol.late(request):
                return {"Accepted": False, "Reason": "late"}
            newest = versions.table_versions(table).newest(versions.key_from_json(table, keys))
            if newest is not None and (base is None or newest > base):
                return {"Accepted": False, "Reason": "newer", **_held(table, keys, newest)}
            strong_protocol.repair(table, keys, version, item)
    return {"Accepted": True}


def read_for_peer(region: str, request: dict) -> dict:
    """``StrongRead``: the key's newest version and image here, once no write of it is pending."""
    if strong_peers.is_isolated():
        raise Isolated()
    table = _table_or_none(region, request["TableName"])
    keys = request["Keys"]
    if table is None:
        with _witness.lock:
            version, item = _witness.entries.get(strong_protocol.token(request["TableName"], keys), (None, None))
        return {"Version": versions.as_text(version) if version else None, "Item": item}
    if request.get("Wait", True):
        strong_protocol.guards.wait_idle(strong_protocol.token(table.name, keys))
    with WRITE_LOCK:
        newest = versions.table_versions(table).newest(versions.key_from_json(table, keys))
        return _held(table, keys, newest) if newest is not None else {"Version": None, "Item": None}


def _held(table, keys: dict, newest) -> dict:
    key = versions.key_from_json(table, keys)
    live = versions.table_versions(table).live.get(key)
    item = None
    if live is not None and live == newest:
        stored = strong_protocol.backend_of(table).get_item(table.name, keys)
        item = stored.to_json()["Attributes"] if stored is not None else None
    return {"Version": versions.as_text(newest), "Item": item}


def _witness_accept(request: dict, keys: dict, base, version, item) -> dict:
    token = strong_protocol.token(request["TableName"], keys)
    with _witness.lock:
        if strong_protocol.late(request):
            return {"Accepted": False, "Reason": "late"}
        held, held_item = _witness.entries.get(token, (None, None))
        if held is not None and (base is None or held > base):
            return {"Accepted": False, "Reason": "newer", "Version": versions.as_text(held), "Item": held_item}
        _witness.entries[token] = (version, item)
    return {"Accepted": True}


def _table_or_none(region: str, name: str):
    from moto.dynamodb.models import dynamodb_backends

    from backend.local.dynamodb.patch_list import DEFAULT_ACCOUNT_ID

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region].tables.get(name)

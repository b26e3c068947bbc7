"""The moto hooks of MRSC tables (``strong_protocol.py`` says what they do): the backend's item writes (PutItem,
UpdateItem, DeleteItem and the writes of BatchWriteItem reach them, from any client) become strongly consistent
writes, a GetItem with ConsistentRead first brings the region up to date, and UpdateTimeToLive is refused."""

from __future__ import annotations

import functools
import inspect

from backend.local.dynamodb import strong, strong_protocol, versions

_MARK = "_mrkv_strong_hook"


def install() -> int:
    """Wraps the backend's item writes and the GetItem, UpdateTimeToLive handlers (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    installed = 0
    for name in ("put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)
        if not getattr(original, _MARK, False):
            setattr(DynamoDBBackend, name, _mark(_strong_writes(original, name)))
            installed += 1
    for name, wrap in (("get_item", _strong_reads), ("update_time_to_live", _no_ttl)):
        original = getattr(DynamoHandler, name)
        if not getattr(original, _MARK, False):
            setattr(DynamoHandler, name, _mark(wrap(original)))
            installed += 1
    return installed


def _mark(function):
    setattr(function, _MARK, True)
    return function


def _strong_writes(original, name: str):
    signature = inspect.signature(original)

    @functools.wraps(original)
    def write(self, *args, **kwargs):
        # Every write of every table passes here: the table is looked up first, the arguments bound only for MRSC.
        table = self.tables.get(args[0] if args else kwargs.get("table_name"))
        if table is None or not strong.is_strong(table) or strong_protocol.bypassed() or versions.is_replicating():
            return original(self, *args, **kwargs)
        bound = signature.bind(self, *args, **kwargs)
        source = bound.arguments["item_attrs"] if name == "put_item" else bound.arguments["key"]
        keys = _keys_of(table, source)
        return strong_protocol.strong_write(self, table.name, keys, lambda: original(self, *args, **kwargs))

    return write


def _keys_of(table, attributes: dict) -> dict:
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    if not isinstance(attributes, dict) or not all(isinstance(attributes.get(n), dict) for n in names):
        from moto.dynamodb.exceptions import MockValidationException

        raise MockValidationException("The provided key element does not match the schema")
    return {name: attributes[name] for name in names}


def _strong_reads(get_item):
    @functools.wraps(get_item)
    def get_item_strongly(handler):
        body = handler.body or {}
        if body.get("ConsistentRead") is True:
            table = handler.dynamodb_backend.tables.get(body.get("TableName"))
            if table is not None and strong.is_strong(table):
                strong_protocol.refresh(table, _keys_of(table, body.get("Key")))
        return get_item(handler)

    return get_item_strongly


def _no_ttl(update_time_to_live):
    @functools.wraps(update_time_to_live)
    def update_time_to_live_unless_strong(handler):
        table = handler.dynamodb_backend.tables.get((handler.body or {}).get("TableName"))
        refusal = strong.refusal_of_ttl(table) if table is not None else None
        if refusal:
            from moto.dynamodb.exceptions import MockValidationException

            raise MockValidationException(refusal)
        return update_time_to_live(handler)

    return update_time_to_live_unless_strong

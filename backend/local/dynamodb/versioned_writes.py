"""A change written with a given hidden version, only over an older one: what a replicated change (the replicator's
``ApplyChanges``) and a strongly consistent region's repair from a peer (``strong_protocol.py``) both do."""

from __future__ import annotations

from backend.local.dynamodb import versions
from backend.local.dynamodb.write_lock import WRITE_LOCK


def apply_versioned(backend, table, name: str, keys: dict, item: dict | None, version) -> bool:
    """Writes ``item`` (None: deletes) at ``version`` if it is newer than what the region holds for the key, item
    or tombstone, checked and written under the write lock; a delete of an absent item still leaves its tombstone.
    The write counts as replicated: the replicator does not forward it."""
    with WRITE_LOCK:
        held = versions.table_versions(table)
        key = versions.key_from_json(table, keys)
        if not held.accepts(key, version):
            return False
        with versions.replicating(version):
            if item is not None:
                backend.put_item(name, item)
                held.stored(key, version)  # also for a table without a stream (no hook ran)
            else:
                backend.delete_item(name, keys)
                held.deleted(key, version, versions.now_us())
        return True

"""What the replicator does with one stream record. Pure: no I/O, no clock, no threads.

DynamoDB global tables (MREC) resolve conflicts by last writer wins on a hidden per-item timestamp. Each region keeps
those versions itself (``backend/local/dynamodb/versions.py``): every change of an item there, whoever made it and
through whichever operation, has a ``(ts_us, region)`` version, and its stream record carries it (shown only through
the region's replicator door). So the replicator decides nothing about who wins; it only moves changes:

- a record of a **local** write (any client, any write operation): ``REPLICATE`` the item's new image (or the delete)
  with its version to every other region;
- a record of a **replicated** write (the replicator's own, tagged by the region): ``SKIP``. That is what stops
  echoes and loops;
- a record without a hidden version (read past the door) cannot be ordered: ``SKIP``, and say so.

Each destination takes a change only if its version is newer than what it holds for the key, item or tombstone
(``replica_door.apply_changes``, under the region's write lock), so applying twice, late or out of order is harmless
and every region ends with the newest version of every key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from backend.local.dynamodb.versions import Version, as_text, from_text

__all__ = ["Version", "Change", "Action", "Decision", "decide", "destinations", "key_id"]


def key_id(keys: dict) -> str:
    """One hashable name for an item's key (its Keys map), for per-key ordering in the queues."""
    if len(keys) == 1:
        (value,) = keys.values()
        if "S" in value:
            return value["S"]
    return json.dumps(keys, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Change:
    """A put (``item`` set) or a delete (``item`` None) of the item ``keys`` at ``version``, created at
    ``created_ms`` in its source region's stream."""

    keys: dict
    version: Version
    item: dict | None
    created_ms: int
    key: str = field(init=False, compare=False)  # key_id(keys), computed once

    def __post_init__(self):
        object.__setattr__(self, "key", key_id(self.keys))

    @property
    def is_delete(self) -> bool:
        return self.item is None

    def to_wire(self) -> dict:
        """One change of a door ``ApplyChanges`` call."""
        return {"Keys": self.keys, "Item": self.item, "Version": as_text(self.version)}


class Action(Enum):
    REPLICATE = "replicate"  # send the change to every other region
    SKIP = "skip"  # nothing to do (a replicated write, or a record that cannot be ordered)


@dataclass(frozen=True)
class Decision:
    action: Action
    change: Change | None = None
    reason: str = ""


def creation_ms(record: dict) -> int:
    """ApproximateCreationDateTime of a record in epoch ms (boto3 parses it to a datetime; raw JSON has seconds)."""
    stamp = record["dynamodb"].get("ApproximateCreationDateTime", 0)
    if isinstance(stamp, datetime):
        return round(stamp.timestamp() * 1000)
    return round(float(stamp) * 1000)


def decide(record: dict) -> Decision:
    """What to do with one stream record read through a region's door. See the module docstring."""
    body = record.get("dynamodb", {})
    keys = body.get("Keys")
    if not keys:
        return Decision(Action.SKIP, reason="a record without keys")
    hidden = record.get("mrkv")
    if not isinstance(hidden, dict) or "version" not in hidden:
        return Decision(Action.SKIP, reason="a record without its hidden version (not read through the door)")
    if hidden.get("replica"):
        return Decision(Action.SKIP, reason="a replicated write (originated elsewhere)")
    version = from_text(hidden["version"])
    event = record.get("eventName")
    if event in ("INSERT", "MODIFY"):
        new = body.get("NewImage")
        if new is None:
            return Decision(Action.SKIP, reason="a write without its new image (the stream must show NEW_IMAGE)")
        return Decision(Action.REPLICATE, Change(keys, version, new, creation_ms(record)), "local write")
    if event == "REMOVE":
        return Decision(Action.REPLICATE, Change(keys, version, None, creation_ms(record)), "local delete")
    return Decision(Action.SKIP, reason=f"unknown event {event!r}")


def destinations(decision: Decision, source: str, regions) -> list[str]:
    """Where a decision's change must be applied: every region but its source."""
    if decision.action is Action.SKIP:
        return []
    return [region for region in regions if region != source]


"""The conflict-resolution core of the local global tables. Pure: no I/O, no clock, no threads.

DynamoDB global tables (MREC) resolve conflicts by last writer wins. Here every write has a ``Version``
and versions are totally ordered:

    (writtenAt ms, region, kind, value)     kind: a put < a delete at the same (ms, region)

- ``writtenAt`` is the writer's clock (the handler's), so a skewed clock really can lose, as on AWS.
- ``region`` breaks ties between regions (string order), as the project's contract says.
- at equal (ms, region) a delete beats a put: the delete came after the put it removed.
- two puts of one region in the same millisecond tie-break on the value, so every region picks the same one.

What the replicator reads is a stream record of one region. ``decide`` says what to do with it:

- a write that originated in that region (``NewImage.region`` is the stream's region) and wins over what it
  replaced: ``REPLICATE`` it to every other region;
- a local write that *loses* to what it overwrote (the handler's puts are unconditional, so a writer with a slow
  clock can overwrite a newer item locally): ``REPAIR`` the region by putting the winner back, and replicate
  nothing, so no region diverges;
- anything the replicator itself wrote (a replicated put carries another region's name; a replicated delete
  first marks the item with ``REPLICA_DELETE_MARK``): ``SKIP``. That is what stops echoes and loops.
  One exception: a local client can delete an item in the instant between the replicator's mark and its own delete.
  The REMOVE record looks the same; only the replicator knows its own delete failed, and says so with
  ``marked_remove_is_local`` (see ``marked_deletes.py``). That delete is then a local delete like any other, else its
  later version would be lost and an older put could come back.

A local delete is timestamped by the record's ``ApproximateCreationDateTime``. Deletes leave a tombstone
(key → newest delete version, ``tombstones.py``) so that an older put still in flight cannot resurrect the key.

Applying a change in a destination is a conditional write: ``put_condition`` / ``delete_mark_condition`` build the
DynamoDB expressions, and ``accepts`` is the same rule in Python (the model-based test uses it; a functional test
checks the two agree on a real moto table).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

# The attribute a replicated delete sets on the item just before deleting it: the REMOVE record's OldImage then
# says "the replicator did this", with no memory needed (it survives a kill -9 of the replicator).
REPLICA_DELETE_MARK = "replicaDelete"

PUT, DELETE = 0, 1


@dataclass(frozen=True, order=True)
class Version:
    """A write's place in the last-writer-wins order. Compare with < and >."""

    ts: int  # epoch ms
    region: str
    kind: int = PUT  # PUT < DELETE at equal (ts, region)
    value: str = ""  # last tie-break between two puts of one region in one millisecond

    def as_text(self) -> str:
        return f"{self.ts}|{self.region}|{self.kind}|{self.value}"

    @classmethod
    def from_text(cls, text: str) -> Version:
        ts, region, kind, value = text.split("|", 3)
        return cls(int(ts), region, int(kind), value)


@dataclass(frozen=True)
class Change:
    """A put (``item`` set) or a delete (``item`` None) of ``key`` at ``version``, created at ``created_ms``."""

    key: str
    version: Version
    item: dict | None  # DynamoDB attribute map to put; None for a delete
    created_ms: int  # when the source region's stream recorded it (for ReplicationLatency)

    @property
    def is_delete(self) -> bool:
        return self.item is None

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "version": self.version.as_text(),
            "item": self.item,
            "created_ms": self.created_ms,
        }

    @classmethod
    def from_json(cls, data: dict) -> Change:
        return cls(data["key"], Version.from_text(data["version"]), data["item"], int(data["created_ms"]))


class Action(Enum):
    REPLICATE = "replicate"  # send the change to every other region
    REPAIR = "repair"  # put the change back into the stream's own region
    SKIP = "skip"  # nothing to do (our own write, or a no-op)


@dataclass(frozen=True)
class Decision:
    action: Action
    change: Change | None = None
    reason: str = ""


def item_version(item: dict | None) -> Version | None:
    """The version of a stored item (DynamoDB attribute map). Items without writtenAt (the walkthrough's) are oldest."""
    if not item:
        return None
    return Version(
        ts=int(item.get("writtenAt", {}).get("N", "0")),
        region=item.get("region", {}).get("S", ""),
        kind=PUT,
        value=item.get("value", {}).get("S", ""),
    )


def creation_ms(record: dict) -> int:
    """ApproximateCreationDateTime of a record in epoch ms (boto3 parses it to a datetime; raw JSON has seconds)."""
    stamp = record["dynamodb"].get("ApproximateCreationDateTime", 0)
    if isinstance(stamp, datetime):
        return round(stamp.timestamp() * 1000)
    return round(float(stamp) * 1000)


def winner(*versions: Version | None) -> Version | None:
    present = [v for v in versions if v is not None]
    return max(present) if present else None


def replica_mark(record: dict) -> str | None:
    """The replicator's mark on the item a REMOVE record removed, if it had one."""
    if record.get("eventName") != "REMOVE":
        return None
    mark = (record.get("dynamodb", {}).get("OldImage") or {}).get(REPLICA_DELETE_MARK)
    return mark.get("S") if isinstance(mark, dict) else None


def decide(
    record: dict,
    stream_region: str,
    tombstone: Version | None = None,
    marked_remove_is_local: bool = False,
) -> Decision:
    """What to do with one stream record read from ``stream_region``'s table. See the module docstring."""
    event = record.get("eventName")
    body = record.get("dynamodb", {})
    key = body.get("Keys", {}).get("key", {}).get("S")
    if key is None:
        return Decision(Action.SKIP, reason="record without a string key")
    old = body.get("OldImage") or None
    new = body.get("NewImage") or None
    created = creation_ms(record)
    old_version = None if old is None or REPLICA_DELETE_MARK in old else item_version(old)

    if event in ("INSERT", "MODIFY"):
        if new is None or REPLICA_DELETE_MARK in new:
            return Decision(Action.SKIP, reason="the replicator marking an item it is about to delete")
        if new.get("region", {}).get("S") != stream_region:
            return Decision(Action.SKIP, reason="a replicated write (originated elsewhere)")
        version = item_version(new)
        if old is not None and old == new:
            return Decision(Action.SKIP, reason="a put that changed nothing (moto still emits MODIFY)")
        best = winner(old_version, tombstone)
        if best is not None and best > version:
            return _repair(key, best, old, created, "a local write lost to what it overwrote")
        return Decision(Action.REPLICATE, Change(key, version, new, created), "local write")

    if event == "REMOVE":
        if old is None:
            return Decision(Action.SKIP, reason="a REMOVE without its old image")
        if REPLICA_DELETE_MARK in old:
            if not marked_remove_is_local:
                return Decision(Action.SKIP, reason="a replicated delete")
            # A client deleted it just after the replicator marked it: judge it by the item, put back unmarked.
            old = {name: value for name, value in old.items() if name != REPLICA_DELETE_MARK}
            old_version = item_version(old)
        version = Version(created, stream_region, DELETE)
        if old_version is not None and old_version > version:
            # The deleted item was newer than the delete (its writer's clock ran ahead): the item wins.
            return _repair(key, old_version, old, created, "a local delete lost to the item it removed")
        return Decision(Action.REPLICATE, Change(key, version, None, created), "local delete")

    return Decision(Action.SKIP, reason=f"unknown event {event!r}")


def destinations(decision: Decision, source: str, regions) -> list[str]:
    """Where a decision's change must be applied.

    A delete also goes back to its own region: a put from elsewhere that is older than the delete may land there
    after the local delete but before the replicator has read the REMOVE (so before the tombstone existed)."""
    if decision.action is Action.SKIP:
        return []
    if decision.action is Action.REPAIR:
        return [source]
    if decision.change.is_delete:
        return list(regions)
    return [region for region in regions if region != source]


def _repair(key: str, best: Version, old: dict | None, created: int, reason: str) -> Decision:
    if best.kind == DELETE:
        return Decision(Action.REPAIR, Change(key, best, None, created), reason)
    return Decision(Action.REPAIR, Change(key, best, old, created), reason)


def accepts(current: Version | None, tombstone: Version | None, change: Change) -> bool:
    """Whether a destination holding ``current`` takes ``change`` (the conditional write's rule, in Python).

    A put needs to beat both the stored item and the key's tombstone; a delete needs an existing, older item
    (deleting nothing changes nothing)."""
    if change.is_delete:
        return current is not None and current < change.version
    if tombstone is not None and tombstone > change.version:
        return False
    return current is None or current < change.version


_NAMES = {"#k": "key", "#ts": "writtenAt", "#r": "region", "#v": "value"}


def put_condition(change: Change) -> dict:
    """ConditionExpression arguments of a replicated put: only over a missing or strictly older item."""
    version = change.version
    return {
        "ConditionExpression": (
            "attribute_not_exists(#k) OR attribute_not_exists(#ts) OR #ts < :ts"
            " OR (#ts = :ts AND #r < :r) OR (#ts = :ts AND #r = :r AND #v < :v)"
        ),
        "ExpressionAttributeNames": dict(_NAMES),
        "ExpressionAttributeValues": {
            ":ts": {"N": str(version.ts)},
            ":r": {"S": version.region},
            ":v": {"S": version.value},
        },
    }


def delete_mark_condition(change: Change, mark: str | None = None) -> dict:
    """UpdateExpression arguments that mark an existing, older item for a replicated delete.

    A put at the same (ts, region) is older than the delete, so ``<=`` on the region. ``mark`` defaults to the
    delete's version; the replicator makes each attempt's mark unique (see ``marked_deletes.py``)."""
    version = change.version
    return {
        "UpdateExpression": "SET #m = :m",
        "ConditionExpression": "attribute_exists(#k) AND (attribute_not_exists(#ts) OR #ts < :ts OR (#ts = :ts AND #r <= :r))",
        "ExpressionAttributeNames": {
            "#k": "key",
            "#ts": "writtenAt",
            "#r": "region",
            "#m": REPLICA_DELETE_MARK,
        },
        "ExpressionAttributeValues": {
            ":ts": {"N": str(version.ts)},
            ":r": {"S": version.region},
            ":m": {"S": mark or version.as_text()},
        },
    }


def delete_marked_condition(change: Change, mark: str | None = None) -> dict:
    """ConditionExpression arguments of the delete that follows the mark: only the item we marked."""
    return {
        "ConditionExpression": "#m = :m",
        "ExpressionAttributeNames": {"#m": REPLICA_DELETE_MARK},
        "ExpressionAttributeValues": {":m": {"S": mark or change.version.as_text()}},
    }

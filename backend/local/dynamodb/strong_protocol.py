"""Strongly consistent writes and reads of MRSC tables: a write is acknowledged only once another region of the
table accepted it; a strongly consistent read asks another region before it answers. Quorums of two out of three,
so that every read and every write meets every acknowledged write (why it is enough: ``docs/FIDELITY.md``).

**A write** (PutItem, UpdateItem, DeleteItem, and each write of a BatchWriteItem, by any client) in region R:

1. R marks the key *pending* (one local write per key at a time; a peer's proposal for a pending key is refused);
2. a *trial*: moto does the write under the write lock, conditions and all, while ``versions.capturing`` keeps it
   out of the versions and the stream; the table is then put back as it was. The trial gives the new image. A
   condition that fails, or a write that changes nothing, may have been decided on a copy that is behind: R asks
   the others for the key's newest version first and tries again if it was.
3. R proposes (``StrongAccept``: key, the version R held, the new version and image) to every other region of the
   table at once (``strong_peers.ask_all``, each answer one modelled round trip away). A peer accepts, and applies
   it, if it holds nothing newer and has no write of its own pending on the key.
4. the first accept commits: R writes the new image at its version (a local write the replicator forwards to the
   region that did not accept) and answers the client. No accept: a peer with a pending write, or a newer version
   written after this write began, means a concurrent write in another region: ``ReplicatedWriteConflictException``
   (nothing was written anywhere). A peer that holds a newer version from before tells it, R repairs itself with it
   and tries again (``ATTEMPTS``). Nobody answering (R isolated,
   or both others): ``InternalServerError``.
5. a peer that did not answer may still apply the proposal when the question reaches it (a stopped process resumed,
   a peer that waited for its own pending write): so no accept with a peer silent in any attempt is
   ``InternalServerError`` (outcome unknown), never ``ReplicatedWriteConflictException``, which tells the client
   that nothing was written. And a proposal carries a deadline (``ACCEPT_WITHIN_S``, shorter than the proposer's
   wait for an answer): a peer refuses it ("late") once the deadline has passed, so a proposal its region gave up
   on is not applied afterwards, where the replicator would never forward it (the emulation's regions share this
   machine's clock; the deadline is ours, not AWS's).

**A strongly consistent read** (GetItem with ConsistentRead) waits for a pending write of the key, asks the peers
(``StrongRead``), repairs the region from the first answer if it is newer, then reads locally. Eventually
consistent reads stay local and may lag.

The other regions' questions (``StrongAccept``, ``StrongRead``) are answered by ``strong_door.py``, and so is a
**witness**: a region that holds no table, keeps per key the version and image it accepted, and serves no client.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager

from backend.local.dynamodb import replicas, strong, strong_peers, versioned_writes, versions
from backend.local.dynamodb.write_lock import WRITE_LOCK

ATTEMPTS = 3  # a region that was behind repairs itself and tries again; then it is a conflict
WAIT_FOR_PENDING_S = 5.0
ACCEPT_WITHIN_S = strong_peers.CALL_TIMEOUT_S - 1.0  # a peer refuses a proposal older than this (step 5)
_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


def _conflict():
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError(_ERROR_PREFIX + "ReplicatedWriteConflictException", strong.CONFLICT_MESSAGE)
    error.code = 409  # AWS answers it with HTTP 409 (botocore's data/_retry.json matches the code and 409)
    return error


def _unreachable():
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError(_ERROR_PREFIX + "InternalServerError", strong.ISOLATED_MESSAGE)
    error.code = 500
    return error


class _KeyGuards:
    """Keys with a strongly consistent write in progress in this region, each with its write's priority: the
    (µs, region) it started at. Older goes first: a peer's proposal older than this region's own pending write of
    the key waits for it to end, a younger one is refused. Waits only ever go from older to younger writes, so
    they never form a cycle, and of concurrent writes at least one gets a region's accept."""

    def __init__(self):
        self.cond = threading.Condition()
        self.pending: dict = {}

    @contextmanager
    def writing(self, token, priority):
        with self.cond:
            if not self.cond.wait_for(lambda: token not in self.pending, WAIT_FOR_PENDING_S):
                raise _conflict()
            self.pending[token] = priority
        try:
            yield
        finally:
            with self.cond:
                self.pending.pop(token, None)
                self.cond.notify_all()

    def wait_idle(self, token) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: token not in self.pending, WAIT_FOR_PENDING_S):
                raise _unreachable()

    def clear_for(self, token, priority) -> bool:
        """Under ``cond``: True once no write of the key is pending here; False (refuse) if one is and it is older
        than ``priority``, or it outlasts the wait."""
        deadline = time.monotonic() + WAIT_FOR_PENDING_S
        while token in self.pending:
            if priority is None or not priority < self.pending[token]:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.cond.wait(left)
        return True


guards = _KeyGuards()


_bypass = threading.local()


def bypassed() -> bool:
    """True while this thread commits an accepted write (the backend's own put and delete, not the hooks)."""
    return getattr(_bypass, "active", False)


def peers_of(table) -> list[str]:
    group = set(replicas.replicas_of(table)) | set(strong.witnesses_of(table))
    group.discard(table.region_name)
    return sorted(group)


def token(table_name: str, keys: dict) -> tuple:
    return table_name, json.dumps(keys, sort_keys=True)


# -- the write ------------------------------------------------------------------------------------------------


def strong_write(backend, table_name: str, keys: dict, call):
    """Runs ``call()`` (moto's write) as an MRSC write of the key ``keys`` (module doc)."""
    if strong_peers.is_isolated():
        raise _unreachable()
    table = backend.get_table(table_name)
    began = time.monotonic()
    priority = (versions.now_us(), table.region_name)
    maybe_applied = False  # a peer was silent: it may apply the proposal when it gets it (step 5)
    with guards.writing(token(table_name, keys), priority):
        for attempt in range(ATTEMPTS):
            base, change, result = (_trial if attempt else _settled_trial)(table, keys, call)
            if not change.happened:
                return result  # e.g. a delete of an item absent everywhere: nothing to agree on
            with WRITE_LOCK:
                version = versions.table_versions(table).next_local(
                    versions.key_from_json(table, keys), versions.now_us(), table.region_name
                )
            image = change.new.to_json()["Attributes"] if change.new is not None else None
            outcome, silent = _propose(table, keys, base, version, image, priority, began if not attempt else None)
            maybe_applied = maybe_applied or silent
            if outcome == "accepted":
                _commit(backend, table_name, keys, image, version)
                return result
            if outcome != "repaired":
                raise _conflict() if outcome == "conflict" and not maybe_applied else _unreachable()
        raise _unreachable() if maybe_applied else _conflict()


def _trial(table, keys: dict, call):
    """(the version held before, what the write would change, moto's answer); the table is left as it was."""
    with WRITE_LOCK:
        base = versions.table_versions(table).newest(versions.key_from_json(table, keys))
        with versions.capturing() as change:
            result = call()
        if change.happened:
            _undo(table, change)
    return base, change, result


def _settled_trial(table, keys: dict, call):
    """``_trial``, again after catching up when this region's copy may have decided it wrongly: a condition that
    failed, or a write that changed nothing (a delete of an item this region has not heard of yet)."""
    try:
        base, change, result = _trial(table, keys, call)
    except Exception as error:
        if type(error).__name__ != "ConditionalCheckFailed" or not _caught_up(table, keys):
            raise
        return _trial(table, keys, call)
    if not change.happened and _caught_up(table, keys):
        return _trial(table, keys, call)
    return base, change, result


def _caught_up(table, keys: dict) -> bool:
    """Asks the other regions for the key's newest version without waiting for their pending writes (this one is
    the proposal's job); True if this region was behind and took it."""
    for version, image in _peer_versions(table, keys, wait=False):
        if version is not None:
            return repair(table, keys, version, image)
    return False


def _peer_versions(table, keys: dict, wait: bool):
    """The other regions' answers to ``StrongRead`` in the order they arrive: (version or None, image); a region
    that does not answer is left out. ``wait``: each answers once no write of the key is pending there."""
    request = {"TableName": table.name, "Keys": keys, "Wait": wait}
    for _peer, answer in strong_peers.ask_all(table.region_name, peers_of(table), "StrongRead", request):
        if answer != strong_peers.UNREACHABLE:
            yield (versions.from_text(answer["Version"]) if answer.get("Version") else None), answer.get("Item")


def _undo(table, change) -> None:
    """Puts the table back as it was before the trial (the item store only: nothing else saw the trial)."""
    ref = change.new if change.new is not None else change.old
    hash_key, range_key = ref.hash_key, ref.range_key
    if range_key is not None:
        if change.old is None:
            table.items[hash_key].pop(range_key, None)
        else:
            table.items[hash_key][range_key] = change.old
    elif change.old is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = change.old


def _propose(table, keys: dict, base, version, image, priority, began=None) -> tuple[str, bool]:
    """("accepted", "conflict", "repaired" (a peer knew a newer version; this region took it) or "unreachable";
    whether a peer was silent or refused too late to tell).

    A newer version written after this write began is a concurrent write in another region: a conflict, as on
    AWS, even if it is already acknowledged (the client retries, and then writes over it knowingly). One written
    before is a write this region had not heard of yet: it catches up and tries again."""
    request = {
        "TableName": table.name,
        "Keys": keys,
        "Base": versions.as_text(base) if base is not None else None,
        "Version": versions.as_text(version),
        "Item": image,
        "Priority": versions.as_text(priority),
        "Deadline": int((time.time() + ACCEPT_WITHIN_S) * 1_000_000),
    }
    newest = None
    outcome, silent = "unreachable", False
    for _peer, answer in strong_peers.ask_all(table.region_name, peers_of(table), "StrongAccept", request, began):
        if answer == strong_peers.UNREACHABLE or answer.get("Reason") == "late":
            silent = True
            continue
        if answer.get("Accepted"):
            return "accepted", silent
        if answer.get("Reason") == "pending":
            outcome = "conflict"
        elif outcome != "conflict":
            outcome = "repaired"
        if answer.get("Version") and (newest is None or versions.from_text(answer["Version"]) > newest[0]):
            newest = (versions.from_text(answer["Version"]), answer.get("Item"))
    if newest is not None:
        repair(table, keys, *newest)
        if outcome == "repaired" and newest[0][0] >= priority[0]:
            return "conflict", silent
    return outcome, silent


def late(request: dict) -> bool:
    """The proposer's deadline has passed: it may have given up on this proposal (module doc, step 5)."""
    deadline = request.get("Deadline")
    return deadline is not None and time.time() * 1_000_000 > deadline


def _commit(backend, table_name: str, keys: dict, image, version) -> None:
    _bypass.active = True  # the backend's own put and delete, not this module's wrapping of them
    try:
        with WRITE_LOCK, versions.committing(version):
            if image is not None:
                backend.put_item(table_name, image)
            else:
                backend.delete_item(table_name, keys)
    finally:
        _bypass.active = False


def repair(table, keys: dict, version, image) -> bool:
    """Takes another region's newer version of the key; True if it was newer than what this region holds."""
    return versioned_writes.apply_versioned(backend_of(table), table, table.name, keys, image, version)


def backend_of(table):
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[table.account_id][table.region_name]


# -- the strongly consistent read -----------------------------------------------------------------------------


def refresh(table, keys: dict) -> None:
    """Makes this region hold the latest acknowledged version of the key, or raises (module doc)."""
    if strong_peers.is_isolated():
        raise _unreachable()
    guards.wait_idle(token(table.name, keys))
    for version, image in _peer_versions(table, keys, wait=True):
        if version is not None:
            repair(table, keys, version, image)  # only if newer than what this region holds
        return
    raise _unreachable()

"""Bounds the memory of moto's DynamoDB Streams inside a region process (call it in the process that runs moto).

moto keeps every stream record forever and stores a new shard iterator for every ``get_records`` call without ever
freeing one: an idle replicator polling a stream 40 times a second would grow a region by ~300 MB an hour (the
moto side of each is in ``patches.py``: ``stream_offset_list``, ``shard_iterator_freeing``). This module:

- frees stored shard iterators older than a maximum age (the replicator uses each within milliseconds; an iterator
  freed under a slow reader makes moto answer 500, and the replicator re-seeks from its checkpoint);
- trims stream records up to a sequence number the replicator has durably checkpointed (the shard's list becomes
  an ``OffsetList`` that keeps the positions, so sequence numbers go on as before);
- relies on ``patches.install()`` (applied here too) to serialize ``StreamShard.add``: moto computes
  ``len(items) + start`` and appends in two steps, so two concurrent writes in a threaded server can get the same
  sequence number. The swap and the trims hold the same lock.

Every moto model object is also kept in its class's ``instances_tracked`` list, so freed iterators, trimmed records
and every overwritten or deleted item would still stay in memory: ``patches.untrack_models`` drops those references.

Region servers expose it as ``POST /__admin/stream/trim {"upto": "<sequence number>"|null, "stream": "<ARN>"}``:
``handle_trim_request`` does the parsing and answers (status, JSON document).
"""

from __future__ import annotations

import json
import threading
import time

from backend.local.dynamodb import patches
from backend.local.dynamodb.patches import DEFAULT_ACCOUNT_ID, install

DEFAULT_ITERATOR_MAX_AGE_S = 60.0
_SEEN_AT = "_janitor_seen_at"  # attribute set on each moto ShardIterator the first time the janitor sees it


def current_stream_arn(region: str, table_name: str, account_id: str = DEFAULT_ACCOUNT_ID) -> str | None:
    table = patches.table(region, table_name, account_id)
    if table is None or not table.latest_stream_label:
        return None
    return f"{table.table_arn}/stream/{table.latest_stream_label}"


def trim_records(
    region: str, table_name: str, upto_sequence: int, account_id: str = DEFAULT_ACCOUNT_ID
) -> int:
    """Drops the stream records of ``table_name`` with sequence number <= ``upto_sequence``. Returns how many."""
    if install():
        return (
            0  # a write that started before the lock existed may still be appending: swap the list next time
        )
    shard = patches.stream_shard(region, table_name, account_id)
    if shard is None:
        return 0
    with patches.WRITE_LOCK:  # the position is computed and trimmed with no add() in between
        items = offset_items(shard)
        return items.trim_through(int(upto_sequence) - shard.starting_sequence_number + 1)


def free_iterators(
    region: str, max_age_s: float = DEFAULT_ITERATOR_MAX_AGE_S, account_id: str = DEFAULT_ACCOUNT_ID, now=None
) -> int:
    """Forgets stored shard iterators first seen more than ``max_age_s`` ago. Returns how many were freed."""
    iterators = patches.shard_iterators(region, account_id)
    if iterators is None:
        return 0
    now = time.monotonic() if now is None else now
    freed = 0
    for arn, iterator in list(iterators.items()):  # list() copies under the GIL: moto threads keep inserting
        seen_at = getattr(iterator, _SEEN_AT, None)
        if seen_at is None:
            setattr(iterator, _SEEN_AT, now)
        elif now - seen_at > max_age_s:
            iterators.pop(arn, None)
            freed += 1
    return freed


def trim_and_free(
    region: str,
    table_name: str,
    upto_sequence: int | str | None = None,
    iterator_max_age_s: float = DEFAULT_ITERATOR_MAX_AGE_S,
    account_id: str = DEFAULT_ACCOUNT_ID,
    now=None,
    stream_arn: str | None = None,
) -> dict:
    """All three at once; what a region's ``POST /__admin/stream/trim`` runs. Safe any time, from any thread.

    With ``stream_arn``, records are trimmed only if it is still the table's stream: sequence numbers restart with
    a recreated table, so a checkpoint of the previous one would drop records nobody has read."""
    stale = stream_arn is not None and stream_arn != current_stream_arn(region, table_name, account_id)
    trimmed = 0
    if upto_sequence is not None and not stale:
        trimmed = trim_records(region, table_name, int(upto_sequence), account_id)
    freed = free_iterators(region, iterator_max_age_s, account_id, now)
    untracked = patches.untrack_models()
    return {
        "trimmed": trimmed,
        "stale_stream": stale,
        "freed_iterators": freed,
        "untracked_objects": untracked,
        **stream_memory(region, table_name, account_id),
    }


def stream_memory(region: str, table_name: str, account_id: str = DEFAULT_ACCOUNT_ID) -> dict:
    """How many stream records and shard iterators the region's moto holds now."""
    shard = patches.stream_shard(region, table_name, account_id)
    items = None if shard is None else shard.items
    stored = 0 if items is None else (items.stored() if isinstance(items, OffsetList) else len(items))
    iterators = patches.shard_iterators(region, account_id)
    return {"records_stored": stored, "iterators_stored": 0 if iterators is None else len(iterators)}


def handle_trim_request(region: str, table_name: str, body: bytes | str | None, **kwargs) -> tuple[int, dict]:
    """Parses ``{"upto": "<sequence number>"|null, "stream": "<stream ARN>" (optional)}`` and trims.
    Returns (HTTP status, JSON document)."""
    try:
        document = json.loads(body) if body and body.strip() else {}
    except ValueError:
        return 400, {"error": 'the body is not valid JSON: send {"upto": "<sequence number>"}'}
    if not isinstance(document, dict):
        return 400, {"error": 'the body must be a JSON object: {"upto": "<sequence number>"}'}
    upto = document.get("upto")
    if upto is not None:
        if isinstance(upto, bool) or not isinstance(upto, (str, int)) or not str(upto).isdigit():
            return 400, {"error": '"upto" must be a sequence number (a string of digits) or null'}
    stream = document.get("stream")
    if stream is not None and not isinstance(stream, str):
        return 400, {"error": '"stream" must be the stream ARN the sequence number belongs to, or null'}
    return 200, trim_and_free(region, table_name, upto, stream_arn=stream, **kwargs)


# -- stream_offset_list ---------------------------------------------------------------------------------------


class OffsetList(list):
    """A list whose first ``offset`` elements were dropped but still count in ``len`` and in indexing by slices.

    Reading a trimmed position returns the oldest record left, as TRIM_HORIZON does on AWS."""

    def __init__(self, items=()):
        super().__init__(items)
        self.offset = 0
        self._lock = threading.Lock()

    def __len__(self):
        with self._lock:
            return self.offset + super().__len__()

    def __getitem__(self, index):
        with self._lock:
            if isinstance(index, slice):
                start, stop, step = index.start, index.stop, index.step
                start = None if start is None else max(0, start - self.offset)
                stop = None if stop is None else max(0, stop - self.offset)
                return list.__getitem__(self, slice(start, stop, step))
            if index < 0:
                return list.__getitem__(self, index)
            return list.__getitem__(self, index - self.offset)

    def __iter__(self):
        with self._lock:
            return iter(list.__getitem__(self, slice(None)))

    def trim_through(self, position: int) -> int:
        """Drops the elements at absolute positions < ``position``; returns how many were dropped."""
        with self._lock:
            count = min(max(0, position - self.offset), list.__len__(self))
            if count:
                del self[:count]  # list.__delitem__: not overridden, works on the stored elements
                self.offset += count
            return count

    def stored(self) -> int:
        return list.__len__(self)


def offset_items(shard) -> OffsetList:
    """The shard's records as an OffsetList, swapping moto's list once. The swap holds the write lock, so no
    record is ever appended to a list that is being replaced (call ``install()`` first)."""
    with patches.WRITE_LOCK:  # no add() can run between copying the list and swapping it
        if not isinstance(shard.items, OffsetList):
            shard.items = OffsetList(shard.items)
        return shard.items

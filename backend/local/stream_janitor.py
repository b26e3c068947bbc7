"""Bounds the memory of moto's DynamoDB Streams inside a region process (call it in the process that runs moto).

moto 5.2.5 keeps every stream record forever (``StreamShard.items``) and stores a new shard iterator for every
``get_records`` call (``DynamoDBStreamsBackend.shard_iterators``) without ever freeing one: an idle replicator polling
a stream 40 times a second would grow a region by ~300 MB an hour. This module:

- frees stored shard iterators older than a maximum age (the replicator uses each within milliseconds; an iterator
  freed under a slow reader makes moto answer 500, and the replicator re-seeks from its checkpoint);
- trims stream records up to a sequence number the replicator has durably checkpointed. moto computes a record's
  sequence number from its position in the list, so records can't simply be removed: the shard's list is swapped
  once for an ``_OffsetList`` that keeps the positions (``len`` counts trimmed records) and drops the objects.
  Reading a trimmed position returns the oldest record left, as TRIM_HORIZON does on AWS;
- serializes ``StreamShard.add`` (``install``): moto computes ``len(items) + start`` and appends in two steps, so two
  concurrent writes in a threaded server can get the same sequence number. The swap and the trims hold the same
  lock, so no record is ever appended to a list that is being replaced.

Every moto model object is also appended to its class's ``instances_tracked`` list (for moto's dashboard) and never
removed, so freed iterators, trimmed records and every overwritten or deleted item would still stay in memory:
``untrack_models`` empties those lists for the per-request classes (moto's own reset does the same).

Region servers expose it as ``POST /__admin/stream/trim {"upto": "<sequence number>"|null, "stream": "<ARN>"}``: ``handle_trim_request``
does the parsing and answers (status, JSON document).
"""

from __future__ import annotations

import json
import threading
import time

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_ITERATOR_MAX_AGE_S = 60.0
_SEEN_AT = "_janitor_seen_at"  # attribute set on each moto ShardIterator the first time the janitor sees it


_ADD_LOCK = threading.RLock()
_INSTALLED = False


def install() -> bool:
    """Makes moto's ``StreamShard.add`` hold the janitor's lock. Idempotent; returns True the first time.

    Region processes should call it once at startup, before serving; ``trim_and_free`` calls it too."""
    global _INSTALLED
    with _ADD_LOCK:
        if _INSTALLED:
            return False
        from moto.dynamodb.models.table import StreamShard

        unlocked_add = StreamShard.add

        def add(self, old, new):
            with _ADD_LOCK:
                return unlocked_add(self, old, new)

        StreamShard.add = add
        _INSTALLED = True
        return True


class _OffsetList(list):
    """A list whose first ``offset`` elements were dropped but still count in ``len`` and in indexing by slices."""

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


def _stream_shard(region: str, table_name: str, account_id: str):
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[account_id][region].tables.get(table_name)
    return None if table is None else table.stream_shard


def current_stream_arn(region: str, table_name: str, account_id: str = DEFAULT_ACCOUNT_ID) -> str | None:
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[account_id][region].tables.get(table_name)
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
    shard = _stream_shard(region, table_name, account_id)
    if shard is None:
        return 0
    with _ADD_LOCK:  # no add() can run between copying the list and swapping it
        if not isinstance(shard.items, _OffsetList):
            shard.items = _OffsetList(shard.items)
        return shard.items.trim_through(int(upto_sequence) - shard.starting_sequence_number + 1)


def free_iterators(
    region: str, max_age_s: float = DEFAULT_ITERATOR_MAX_AGE_S, account_id: str = DEFAULT_ACCOUNT_ID, now=None
) -> int:
    """Forgets stored shard iterators first seen more than ``max_age_s`` ago. Returns how many were freed."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    if region not in dynamodbstreams_backends[account_id]:
        return 0
    iterators = dynamodbstreams_backends[account_id][region].shard_iterators
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


# Classes of which moto creates an object per request or per write (moto.core.model_instances keeps them all).
PER_REQUEST_MODELS = {"dynamodb": ("Item", "StreamRecord"), "dynamodbstreams": ("ShardIterator",)}


def untrack_models() -> int:
    """Drops moto's dashboard references to per-request objects. Returns how many references were dropped."""
    from moto.core.model_instances import model_data

    dropped = 0
    for service, names in PER_REQUEST_MODELS.items():
        for name in names:
            model = model_data.get(service, {}).get(name)
            if model is not None:
                dropped += len(model.instances_tracked)
                model.instances_tracked = []  # BaseModel.__new__ appends to whatever list is there now
    return dropped


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
    untracked = untrack_models()
    return {
        "trimmed": trimmed,
        "stale_stream": stale,
        "freed_iterators": freed,
        "untracked_objects": untracked,
        **stream_memory(region, table_name, account_id),
    }


def stream_memory(region: str, table_name: str, account_id: str = DEFAULT_ACCOUNT_ID) -> dict:
    """How many stream records and shard iterators the region's moto holds now."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    shard = _stream_shard(region, table_name, account_id)
    items = None if shard is None else shard.items
    stored = 0 if items is None else (items.stored() if isinstance(items, _OffsetList) else len(items))
    backends = dynamodbstreams_backends[account_id]
    iterators = len(backends[region].shard_iterators) if region in backends else 0
    return {"records_stored": stored, "iterators_stored": iterators}


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

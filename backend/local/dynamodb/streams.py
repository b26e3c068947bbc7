"""Bounds the memory of moto's DynamoDB Streams inside a region process (call it in the process that runs moto).

moto keeps every stream record forever and stores a new shard iterator for every ``get_records`` call without ever
freeing one: an idle replicator polling a stream 40 times a second would grow a region by ~300 MB an hour (the
moto side of each is in ``patches.py``: ``stream_offset_list``, ``shard_iterator_freeing``). This module:

- frees stored shard iterators older than a maximum age (the replicator uses each within milliseconds; a freed
  iterator answers ``ExpiredIteratorException``, ``stream_reads.py``, and the replicator re-seeks from its checkpoint);
- keeps stream records as AWS does, 24 hours for every consumer, within a cap per shard (``stream_retention.py``):
  the replicator's reading removes nothing. What the replicator has durably done (its checkpoint, ``upto``) only
  says how far the cap and the 24 hours may trim: never past it;
- relies on ``patches.install()`` (applied here too) to serialize ``StreamShard.add``: moto computes
  ``len(items) + start`` and appends in two steps, so two concurrent writes in a threaded server can get the same
  sequence number. Trims hold the same lock.

Every moto model object is also kept in its class's ``instances_tracked`` list, so freed iterators, trimmed records
and every overwritten or deleted item would still stay in memory: ``patches.untrack_models`` drops those references.

Region servers expose it as ``POST /__admin/stream/trim {"upto": "<sequence number>"|null, "stream": "<ARN>"}``
(the replicator's housekeeping sends it every few seconds): ``handle_trim_request`` does the parsing and answers
(status, JSON document). ``sweep`` applies the retention to every table of a region (``LocalDynamoDB`` runs it
periodically, so records expire without a replicator too).
"""

from __future__ import annotations

import json
import time

from backend.local.dynamodb import patches, stream_retention
from backend.local.dynamodb.patches import DEFAULT_ACCOUNT_ID, install
from backend.local.dynamodb.stream_retention import OffsetList, offset_items  # noqa: F401 - re-exported

DEFAULT_ITERATOR_MAX_AGE_S = 60.0
_SEEN_AT = "_janitor_seen_at"  # attribute set on each moto ShardIterator the first time the janitor sees it


def current_stream_arn(region: str, table_name: str, account_id: str = DEFAULT_ACCOUNT_ID) -> str | None:
    table = patches.table(region, table_name, account_id)
    if table is None or not table.latest_stream_label:
        return None
    return f"{table.table_arn}/stream/{table.latest_stream_label}"


def take_checkpoint(
    region: str, table_name: str, upto_sequence: int | None, stream_arn: str | None, account_id: str = DEFAULT_ACCOUNT_ID
) -> bool:
    """Takes the replicator's durable checkpoint of ``table_name``'s stream as the guard no trim goes past. Returns
    whether it is stale (of another stream than the table's: sequence numbers restart with a recreated table)."""
    shard = patches.stream_shard(region, table_name, account_id)
    current = stream_retention.guard(region, table_name, shard, stream_arn, upto_sequence)
    return stream_arn is not None and not current


def sweep(region: str, account_id: str = DEFAULT_ACCOUNT_ID, now_us: int | None = None) -> int:
    """Expires and caps the records of every table of ``region`` that has a stream; returns how many went."""
    from moto.dynamodb.models import dynamodb_backends

    if region not in dynamodb_backends[account_id]:
        return 0
    tables = list(dynamodb_backends[account_id][region].tables.values())  # copied: clients create tables meanwhile
    return sum(stream_retention.retain(t.stream_shard, now_us) for t in tables if t.stream_shard is not None)


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
    now_us: int | None = None,
) -> dict:
    """What a region's ``POST /__admin/stream/trim`` runs. Safe any time, from any thread.

    ``upto_sequence`` (with ``stream_arn``, the stream it belongs to) is what the replicator has durably done:
    records up to it *may* be trimmed, once older than 24 hours or over the cap; later ones never are. Sequence
    numbers restart with a recreated table, so a checkpoint of another stream than the table's guards everything."""
    upto = None if upto_sequence is None else int(upto_sequence)
    stale = take_checkpoint(region, table_name, upto, stream_arn, account_id)
    # A write that started before the lock existed may still be appending: trim from the next request on.
    trimmed = 0 if install() else sweep(region, account_id, now_us)  # every table of the region expires
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

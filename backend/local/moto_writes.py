"""Makes moto's DynamoDB writes atomic in a process that serves them from several threads (a region process).

moto 5.2.5 does a write as several Python steps with no lock: read the current item, check the condition, store
the new item, then ``StreamShard.add`` numbers the stream record ``len(items) + start`` *before* appending it.
A region serves its gateway threads and its moto HTTP server threads at once, so two writes can interleave:

- two stream records get the same sequence number (and one number is skipped). A reader that dedups by sequence
  number (the replicator, after a re-seek) drops the second record: that write never leaves its region. The chaos
  run found it: acknowledged writes missing in one region after healing, with the replicator idle;
- a conditional write (the replicator's ``#ts < :ts``) checks against an item that a concurrent local write
  replaces before the conditional write stores its own, older item: the region keeps the older version.

DynamoDB makes each item write atomic, conditions included, and numbers stream records in order. One lock around
the backend's write operations gives the same here (they take microseconds; the request's boto3 and HTTP work
around them stay concurrent).
"""

from __future__ import annotations

import functools
import threading

WRITE_OPERATIONS = ("put_item", "update_item", "delete_item", "transact_write_items")
_lock = threading.RLock()  # reentrant: a transaction's steps call the other write operations
_MARK = "_serialized_by_backend_local"


def serialize_dynamodb_writes() -> int:
    """Wraps moto's DynamoDB write operations in one process-wide lock; returns how many were wrapped (0 if done)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamShard

    wrapped = 0
    targets = [(DynamoDBBackend, name) for name in WRITE_OPERATIONS] + [(StreamShard, "add")]
    for owner, name in targets:
        original = getattr(owner, name)
        if getattr(original, _MARK, False):
            continue

        @functools.wraps(original)
        def locked(*args, _original=original, **kwargs):
            with _lock:
                return _original(*args, **kwargs)

        setattr(locked, _MARK, True)
        setattr(owner, name, locked)
        wrapped += 1
    return wrapped

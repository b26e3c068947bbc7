"""The process-wide patches of moto and the accessors the rest of the adapter uses.

What each patch works around and the moto internals it relies on are listed in ``patch_list.py`` (``PATCHES``,
re-exported here). ``tests/functional/test_moto_adapter.py`` fails, naming the patch, when the installed moto is
another version or when an internal listed there is gone or changed shape.

``install()`` applies the process-wide ones (idempotent); the stream janitor (``streams.py``) uses the accessors
below, its retention (``stream_retention.py``) and reads (``stream_reads.py``) are installed here too; ``LocalDynamoDB`` calls ``untrack_moto_instances`` periodically and ``close_server_socket``.
Nothing outside ``backend/local/dynamodb`` reaches into moto.
"""

from __future__ import annotations

import functools
import socket

from backend.local.dynamodb.patch_list import (  # noqa: F401 - re-exported: the one place to look
    DEFAULT_ACCOUNT_ID,
    MOTO_VERSION,
    PATCHES,
    WRITE_OPERATIONS,
    Patch,
    Reliance,
)
from backend.local.dynamodb.write_lock import WRITE_LOCK  # noqa: F401 - re-exported

_MARK = "_serialized_by_backend_local"


def install() -> int:
    """Applies the process-wide patches; returns how many moto functions it wrapped (0 once installed).

    Call it after ``mock_aws().start()`` and before serving. The lock around the writes takes microseconds; the
    request's boto3 and HTTP work around it stays concurrent."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamShard

    wrapped = 0
    targets = [(DynamoDBBackend, name) for name in WRITE_OPERATIONS] + [(StreamShard, "add")]
    with WRITE_LOCK:
        for owner, name in targets:
            original = getattr(owner, name)
            if getattr(original, _MARK, False):
                continue

            @functools.wraps(original)
            def locked(*args, _original=original, **kwargs):
                with WRITE_LOCK:
                    return _original(*args, **kwargs)

            setattr(locked, _MARK, True)
            setattr(owner, name, locked)
            wrapped += 1
    untrack_moto_instances()
    from backend.local.dynamodb import (
        legacy_global_tables,
        replicas,
        stream_reads,
        stream_retention,
        transactions,
        write_requests,
    )

    installed = transactions.install(WRITE_LOCK, _MARK) + write_requests.install(WRITE_LOCK)
    installed += stream_retention.install() + stream_reads.install() + replicas.install(WRITE_LOCK)
    return wrapped + _install_stream_record_region() + legacy_global_tables.install() + installed


def _install_stream_record_region() -> int:
    """Stream records name the region of their table (``stream_record_region``); 1 if installed now, else 0."""
    from moto.dynamodb.models.table import StreamRecord

    original = StreamRecord.__init__
    if getattr(original, _MARK, False):
        return 0

    @functools.wraps(original)
    def with_region(self, table, *args, **kwargs):
        original(self, table, *args, **kwargs)
        self.record["awsRegion"] = table.region_name

    setattr(with_region, _MARK, True)
    StreamRecord.__init__ = with_region
    return 1


# -- untracked_instances --------------------------------------------------------------------------------------


class _Untracked(list):
    """A list that keeps nothing: what moto's model classes get instead of their ``instances_tracked`` list."""

    def append(self, item) -> None:
        pass


def untrack_moto_instances() -> int:
    """Stops moto from keeping every model instance it ever created; returns how many classes were changed.

    Classes appear as moto imports them, and moto's reset puts plain lists back, so this runs again periodically."""
    from moto.core.model_instances import model_data

    changed = 0
    for models in list(model_data.values()):
        for model in list(models.values()):
            if not isinstance(model.__dict__.get("instances_tracked"), _Untracked):
                model.instances_tracked = _Untracked()
                changed += 1
    return changed


# Classes of which moto creates an object per request or per write (moto.core.model_instances keeps them all).
PER_REQUEST_MODELS = {"dynamodb": ("Item", "StreamRecord"), "dynamodbstreams": ("ShardIterator",)}


def untrack_models() -> int:
    """Drops moto's references to per-request objects now (the janitor's sweep). Returns how many were dropped."""
    from moto.core.model_instances import model_data

    dropped = 0
    for service, names in PER_REQUEST_MODELS.items():
        for name in names:
            model = model_data.get(service, {}).get(name)
            if model is not None:
                dropped += len(model.instances_tracked)
                # BaseModel.__new__ appends to whatever list is there now
                model.instances_tracked = _Untracked()
    return dropped


# -- the accessors the stream janitor uses ---------------------------------------------------------------------


def table(region: str, table_name: str, account_id: str = DEFAULT_ACCOUNT_ID):
    """moto's Table object, or None."""
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[account_id][region].tables.get(table_name)


def stream_shard(region: str, table_name: str, account_id: str = DEFAULT_ACCOUNT_ID):
    found = table(region, table_name, account_id)
    return None if found is None else found.stream_shard


def shard_iterators(region: str, account_id: str = DEFAULT_ACCOUNT_ID) -> dict | None:
    """The region's stored shard iterators (ARN → iterator), or None if its streams backend was never used."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    backends = dynamodbstreams_backends[account_id]
    return backends[region].shard_iterators if region in backends else None


# -- server_socket_close --------------------------------------------------------------------------------------


def close_server_socket(server) -> None:
    """Closes a started ThreadedMotoServer's listening socket without waiting for its thread."""
    werkzeug_server = getattr(server, "_server", None)
    if werkzeug_server is not None:
        try:  # close() alone leaves it listening while the serving thread's poll() holds it (up to 0.5 s)
            werkzeug_server.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        werkzeug_server.socket.close()

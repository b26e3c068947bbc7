"""The edge: the only place that reads the environment and builds the service (once per process)."""

import os
import threading
import time

_lock = threading.Lock()
_service = None
_clock = time.time


def cors_origin() -> str:
    return os.environ.get("CORS_ALLOW_ORIGIN", "*")


def service():
    """The KeyValueService for this process: table from KEY_TABLE, region from AWS_REGION."""
    global _service
    if _service is None:
        with _lock:
            if _service is None:
                _service = _build()
    return _service


def set_clock(clock) -> None:
    """Replaces the wall clock used for writtenAt (the local cloud's clock-skew fault uses it)."""
    global _clock
    _clock = clock
    reset()


def reset() -> None:
    """Forgets the cached service, so the next request reads the environment again."""
    global _service
    with _lock:
        _service = None


def _build():
    import boto3  # imported here so a cold start that only answers errors stays cheap

    from backend.errors import InternalError
    from backend.service import KeyValueService
    from backend.store import CLIENT_CONFIG, DynamoStore

    table = os.environ.get("KEY_TABLE")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not table or not region:
        raise InternalError("The function is misconfigured (KEY_TABLE or AWS_REGION is not set).")
    client = boto3.client("dynamodb", region_name=region, config=CLIENT_CONFIG)
    return KeyValueService(DynamoStore(client, table), region, clock=_clock)

"""The region's DynamoDB and Streams JSON API answered by moto in-process, for the replicator (``POST /__admin/dynamodb``).

Why a second door to the same tables: a call through the ThreadedMotoServer (werkzeug, then Flask's routing, then
moto) cost ~3 ms of CPU and ~9 ms of wall time a conditional put on this 2-core machine; the same call handed to
moto's handler in-process costs ~0.8 ms of CPU and ~2 ms of wall time (1,000 puts each, one thread). The replicator
makes one such call per replicated write, so this door decides how many writes a second replication keeps up with.
It answers exactly what the moto server answers (the same handler, the same patches, the same write lock): only
the transport differs. Clients other than the replicator keep the moto server: it is the DynamoDB endpoint.

``answer(region, target, body)`` → (HTTP status, body bytes), ``target`` being the ``X-Amz-Target`` header. The
``MrkvReplication_20261201`` operations (``replica_door.py``) read stream records with their hidden versions, apply
replicated changes and copy a table with its versions.
"""

from __future__ import annotations

import json

from backend.local.dynamodb import replica_door

SERVICES = {"DynamoDB_20120810": "dynamodb", "DynamoDBStreams_20120810": "dynamodbstreams"}
CONTENT_TYPE = "application/x-amz-json-1.0"


def _handler(service: str):
    if service == "dynamodb":
        from moto.dynamodb.responses import DynamoHandler

        return DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    return DynamoDBStreamsHandler


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
    ).encode()


def answer(region: str, target: str, body: bytes) -> tuple[int, bytes]:
    """One DynamoDB or Streams call of ``region``'s tables, as the moto server would answer it."""
    prefix, _, operation = (target or "").partition(".")
    if prefix == replica_door.TARGET_PREFIX:
        return replica_door.answer(region, operation, body)
    service = SERVICES.get(prefix)
    if service is None or not operation:
        return _error(400, "UnknownOperationException", f"unknown X-Amz-Target {target!r}")
    from moto.core.request import Request

    url = f"https://{service}.{region}.amazonaws.com/"
    headers = {
        "Content-Type": CONTENT_TYPE,
        "X-Amz-Target": target,
        # moto reads the region and the service from the credential scope; this door serves this region only
        "Authorization": f"AWS4-HMAC-SHA256 Credential=local/20200101/{region}/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    request = Request.from_primitives("POST", url, headers, body)
    try:
        status, _headers, answered = _handler(service).dispatch(request, url, request.headers)
    except Exception as error:  # a moto bug: answered as AWS answers an internal failure, never a stack trace
        return _error(500, "InternalFailure", f"{type(error).__name__}: {error}")
    return status, answered.encode() if isinstance(answered, str) else (answered or b"")

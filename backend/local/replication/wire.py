"""A small DynamoDB and DynamoDB Streams client speaking the JSON wire protocol, for the replicator.

Why not boto3 there: the replicator makes eight kinds of call, all to local moto endpoints, and its job is volume.
boto3's two clients per region cost ~35 MB of RSS (a third of the replicator) and about a millisecond of CPU a
call. This client is ``http.client`` with one keep-alive connection per thread, and it answers like a boto3
low-level client does for what the replicator uses: ``client.put_item(TableName=..., ...)`` returns the JSON
answer as a dict, and a refusal raises ``client.exceptions.ConditionalCheckFailedException`` whose ``response``
holds the error and the body's other fields (``Item`` with ``ReturnValuesOnConditionCheckFailure``).

Differences from boto3: timestamps stay epoch seconds (numbers), there are no retries and no request signing.
moto checks no signature; it reads the region and the service from the credential scope of the Authorization
header, so that header is still sent (one moto server can hold several regions' tables).

The handlers keep boto3: they are the code that runs on AWS.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from urllib.parse import urlsplit

DYNAMODB = "DynamoDB_20120810"
STREAMS = "DynamoDBStreams_20120810"
REPLICATION = "MrkvReplication_20261201"  # the region door's own operations (backend/local/dynamodb/replica_door.py)
_STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class WireError(Exception):
    """An error answer. ``response`` has botocore's shape: ``{"Error": {"Code", "Message"}, ...body fields}``."""

    def __init__(self, status: int, code: str, message: str, body: dict | None = None):
        super().__init__(f"{code} ({status}): {message}")
        self.status, self.code, self.message = status, code, message
        extra = {k: v for k, v in (body or {}).items() if k not in ("__type", "message", "Message")}
        self.response = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
            **extra,
        }


class ConditionalCheckFailedException(WireError):
    pass


class ResourceNotFoundException(WireError):
    pass


class ExpiredIteratorException(WireError):
    pass


class TrimmedDataAccessException(WireError):
    pass


class _Exceptions:
    """What ``client.exceptions`` offers, as on a boto3 client."""

    ClientError = WireError
    ConditionalCheckFailedException = ConditionalCheckFailedException
    ResourceNotFoundException = ResourceNotFoundException
    ExpiredIteratorException = ExpiredIteratorException
    TrimmedDataAccessException = TrimmedDataAccessException


_BY_CODE = {
    cls.__name__: cls
    for cls in (
        ConditionalCheckFailedException,
        ResourceNotFoundException,
        ExpiredIteratorException,
        TrimmedDataAccessException,
    )
}


class WireClient:
    """One service (``DYNAMODB`` or ``STREAMS``) of one region's endpoint; safe to share between threads."""

    exceptions = _Exceptions

    def __init__(
        self, endpoint: str, region: str, target_prefix: str = DYNAMODB, timeout_s: float = 10.0, access_key="local"
    ):
        parts = urlsplit(endpoint)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"expected an http:// endpoint, got {endpoint!r}")
        self.endpoint, self.region, self.target_prefix = endpoint, region, target_prefix
        self.host, self.port, self.path = parts.hostname, parts.port or 80, parts.path or "/"
        self.timeout_s = timeout_s
        # The credential scope is what moto routes on; the signature itself is never checked.
        self._authorization = (
            f"AWS4-HMAC-SHA256 Credential={access_key}/20200101/{region}/dynamodb/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
        )
        self._local = threading.local()

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        operation = "".join(part.capitalize() for part in name.split("_"))  # put_item -> PutItem
        return lambda **params: self.call(operation, params)

    def call(self, operation: str, params: dict) -> dict:
        body = json.dumps(params).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"{self.target_prefix}.{operation}",
            "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
            "Authorization": self._authorization,
        }
        for attempt in (1, 2):
            connection, reused = self._connection()
            try:
                connection.request("POST", self.path, body, headers)
                response = connection.getresponse()
                data = response.read()
            except _STALE_CONNECTION:
                self._drop_connection()
                # A kept-alive connection the server closed meanwhile (a region process restarted): the request
                # never reached a live server, so sending it again is safe. Once.
                if reused and attempt == 1:
                    continue
                raise
            except BaseException:
                self._drop_connection()
                raise
            if response.will_close:
                self._drop_connection()
            return self._answer(response.status, data)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._drop_connection()

    # ------------------------------------------------------------------ internals

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            return connection, True
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        self._local.connection = connection
        return connection, False

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    @staticmethod
    def _answer(status: int, data: bytes) -> dict:
        try:
            document = json.loads(data) if data else {}
        except ValueError:
            document = None
        if 200 <= status < 300 and isinstance(document, dict):
            return document
        if not isinstance(document, dict):  # moto answers some failures with an HTML page
            text = data[:200].decode("utf-8", "replace").strip()
            raise WireError(status, f"HTTP{status}", text or "an empty answer")
        code = str(document.get("__type", f"HTTP{status}")).rsplit("#", 1)[-1]
        message = str(document.get("message") or document.get("Message") or "")
        raise _BY_CODE.get(code, WireError)(status, code, message, document)


class RegionClients:
    """The DynamoDB and Streams clients of one region's endpoint, shared by the threads (each thread keeps its own
    keep-alive connection). They speak the wire protocol directly: see the top of this module for why not boto3."""

    def __init__(self, region: str, endpoint: str):
        access_key = os.environ.get("AWS_ACCESS_KEY_ID", "local")
        self.region = region
        self.dynamodb = WireClient(endpoint, region, DYNAMODB, access_key=access_key)
        self.streams = WireClient(endpoint, region, STREAMS, access_key=access_key)
        self.replication = WireClient(endpoint, region, REPLICATION, access_key=access_key)

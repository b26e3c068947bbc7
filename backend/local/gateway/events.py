"""HTTP requests ↔ API Gateway REST proxy (v1) events and responses, as a regional API with stage "dev" does it.

Pure functions: the region server (``region.py``) feeds them what it read from the socket and writes back what they
return. Routing follows API Gateway: ``/{stage}/{key}`` (GET, POST, DELETE) and ``/{stage}/_health`` (GET), an OPTIONS
preflight on both as ``cors: true`` creates it (a MOCK integration answering the CORS headers), and anything else —
unknown path, unknown method, wrong stage — ``403 {"message":"Missing Authentication Token"}``, which is what API
Gateway answers for a route that does not exist.
"""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

STAGE = "dev"
HEALTH_PATH = "_health"
KEY_METHODS = ("GET", "POST", "DELETE")
HEALTH_METHODS = ("GET",)
# What serverless v3 puts in the OPTIONS MOCK integration of ``cors: true``.
CORS_ALLOW_HEADERS = (
    "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent,X-Amzn-Trace-Id"
)
ACCOUNT_ID = "123456789012"
# Sent by the local geo router (and its health checks) to a region: "the router adds the network delay, not you".
HOP_HEADER = "X-Local-Cloud-Hop"


_ids = random.Random()


def new_request_id() -> str:
    """A request id shaped as API Gateway's (a UUID v4). From ``random``, not ``uuid4``: its ``os.urandom`` call was
    2% of one region's ceiling, and a request id needs to be unique, not secret."""
    return str(uuid.UUID(int=_ids.getrandbits(128), version=4))


@dataclass(frozen=True)
class Route:
    """Where a request goes: ``kind`` is "key", "health", "preflight" or "missing"."""

    kind: str
    key: str | None = None
    resource: str | None = None
    methods: tuple[str, ...] = ()


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def route(method: str, raw_path: str, stage: str = STAGE) -> Route:
    """The API Gateway resource a request matches, from its method and raw (still percent-encoded) path."""
    path = urlsplit(raw_path).path
    segments = path.split("/")
    # "/dev/x" → ["", "dev", "x"]; anything else (no stage, wrong stage, nested path, empty key) has no resource.
    if len(segments) != 3 or segments[0] != "" or segments[1] != stage or segments[2] == "":
        return Route("missing")
    key = unquote(segments[2], errors="strict") if _decodable(segments[2]) else None
    if key is None or key == "":
        return Route("missing")
    if segments[2] == HEALTH_PATH:
        resource, methods, kind = "/_health", HEALTH_METHODS, "health"
    else:
        resource, methods, kind = "/{key}", KEY_METHODS, "key"
    if method == "OPTIONS":
        return Route("preflight", key, resource, methods)
    if method not in methods:
        return Route("missing")
    return Route(kind, key, resource, methods)


_PRINTABLE_ASCII = "".join(chr(code) for code in range(0x21, 0x7F))


def request_target(line_path: str) -> str:
    """The request target as the client sent it, with raw non-ASCII bytes percent-encoded.

    http.server decodes the request line as Latin-1, so a client that sends UTF-8 unencoded (curl does, for
    /dev/wörld) would reach the function as "wÃ¶rld", and http.client refuses to forward such a path at all.
    Encoding the original bytes makes it the request /dev/w%C3%B6rld; bytes that are not UTF-8 then fail to
    decode exactly as %FF does.
    """
    return quote(line_path.encode("latin-1"), safe=_PRINTABLE_ASCII)


def protocol_error(status: int, message: str) -> HttpResponse:
    """The answer to a request the gateway cannot parse (line too long, too many headers, unknown verb): JSON
    like API Gateway's own errors, not the stdlib's HTML page. The connection is closed after it."""
    return _json_response(status, {"message": message}, None, [("Connection", "close")])


def _decodable(segment: str) -> bool:
    try:
        unquote(segment, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def request_to_event(
    method: str,
    raw_path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    matched: Route,
    *,
    source_ip: str = "127.0.0.1",
    region: str = "us-east-1",
    api_id: str = "local",
    now: float | None = None,
    request_id: str | None = None,
    stage: str = STAGE,
) -> dict:
    """A REST proxy (v1) event for a request that matched ``matched`` (kind "key" or "health")."""
    now = time.time() if now is None else now
    request_id = request_id or new_request_id()
    parts = urlsplit(raw_path)
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value  # API Gateway keeps the last value of a repeated header
        multi_headers.setdefault(name, []).append(value)
    query_pairs = parse_qsl(parts.query, keep_blank_values=True)
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query_pairs:
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)
    text, is_base64 = _body_for_event(body)
    user_agent = next((v for n, v in headers if n.lower() == "user-agent"), None)
    domain = f"{api_id}.execute-api.{region}.amazonaws.com"
    resource_path = matched.resource or "/{key}"
    return {
        "resource": resource_path,
        "path": "/" + parts.path.split("/", 2)[2],  # without the stage, as API Gateway passes it
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"key": matched.key} if matched.kind == "key" else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource_path,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": parts.path,
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": api_id,
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": domain,
            "apiId": api_id,
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


def _body_for_event(body: bytes) -> tuple[str | None, bool]:
    """Text bodies pass as they are; bytes that are not UTF-8 are base64-encoded with isBase64Encoded true."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def response_from_result(result, request_id: str) -> HttpResponse:
    """The HTTP response for a Lambda proxy result; a malformed one is a 502, as API Gateway answers it."""
    if (
        not isinstance(result, dict)
        or not isinstance(result.get("statusCode"), int)
        or isinstance(result.get("statusCode"), bool)
    ):
        return internal_server_error(request_id)
    status = result["statusCode"]
    if not 100 <= status <= 599:
        return internal_server_error(request_id)
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        return internal_server_error(request_id)
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body, validate=True)
        except ValueError:
            return internal_server_error(request_id)
    else:
        payload = body.encode("utf-8")
    headers: list[tuple[str, str]] = []
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        return internal_server_error(request_id)
    for name, value in single.items():
        if name not in multi:
            headers.append((str(name), str(value)))
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), str(value)))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers.append(("x-amzn-RequestId", request_id))
    return HttpResponse(status, headers, payload)


def _json_response(status: int, document: dict, request_id: str | None, extra=()) -> HttpResponse:
    headers = [("Content-Type", "application/json")]
    if request_id:
        headers.append(("x-amzn-RequestId", request_id))
    headers.extend(extra)
    return HttpResponse(status, headers, json.dumps(document).encode())


def missing_authentication_token(request_id: str | None = None) -> HttpResponse:
    """API Gateway's answer to a route that does not exist."""
    return _json_response(
        403,
        {"message": "Missing Authentication Token"},
        request_id,
        [("x-amzn-ErrorType", "MissingAuthenticationTokenException")],
    )


def internal_server_error(request_id: str | None = None) -> HttpResponse:
    """API Gateway's answer when the integration fails or returns a malformed proxy response."""
    return _json_response(502, {"message": "Internal server error"}, request_id)


def request_too_large(request_id: str | None = None) -> HttpResponse:
    return _json_response(413, {"message": "Request Too Long"}, request_id)


def service_unavailable(request_id: str | None = None) -> HttpResponse:
    """What clients of a region in an outage see."""
    return _json_response(503, {"message": "Service Unavailable"}, request_id)


def preflight(matched: Route, allow_origin: str = "*") -> HttpResponse:
    """The OPTIONS answer ``cors: true`` sets up: a MOCK integration with the CORS headers and an empty body."""
    methods = ",".join(("OPTIONS",) + matched.methods)
    return HttpResponse(
        200,
        [
            ("Content-Type", "application/json"),
            ("Access-Control-Allow-Origin", allow_origin),
            ("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS),
            ("Access-Control-Allow-Methods", methods),
            ("Access-Control-Allow-Credentials", "false"),
        ],
        b"",
    )

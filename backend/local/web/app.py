"""The one way every local endpoint declares routes, reads bodies, answers errors and applies network delay.

Every emulator endpoint (a region's API Gateway stage and admin API, the geo router, the control API, the
replicator's admin API) is a Starlette app made by ``web_app`` and served by ``server.WebServer``:

- routes are Starlette ``Route``s; an endpoint is ``async`` (the request path: never blocks the event loop longer
  than one call of an in-process handler); ``json_endpoint`` makes one of a blocking operation (JSON in and out,
  run in the thread pool), as the control API and the replicator's admin API need;
- ``read_body`` is the one body reader with the one size limit (``MAX_BODY_BYTES``, API Gateway's 10 MB payload
  limit); ``read_json_object`` builds on it for the JSON admin APIs;
- ``HTTPError`` raised anywhere becomes ``{"<error_field>": message}`` with its status; any other exception a JSON
  500 (logged), never a traceback or an HTML page to the client: one place, ``_Errors``;
- ``with_network_delay`` is the one place the network model's delay is applied to an answer;
- every answer carries ``Server`` (the app's name) and ``Date`` unless the endpoint set its own (the geo router
  passes the region's through, as a client of Route 53 + API Gateway sees them).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from backend.local.limits import MAX_BODY_BYTES
from backend.local.loopback import is_loopback

log = logging.getLogger("backend.local.web")


class HTTPError(Exception):
    """An answer other than success: ``status`` and a message for the client; ``close`` ends the connection."""

    def __init__(self, status: int, message: str, close: bool = False):
        super().__init__(message)
        self.status, self.message, self.close = status, message, close


def json_response(status: int, document, headers: dict | None = None) -> Response:
    return Response(json.dumps(document), status, headers=headers, media_type="application/json")


class RawResponse:
    """An answer with its header list as given (a repeated name is kept); Content-Length from the body.

    What the gateway's ``events.HttpResponse`` and the geo router's forwarded answers need: Starlette's
    ``Response`` takes a dict of headers and would merge repeated ones."""

    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    async def __call__(self, scope, receive, send):
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in self.headers
            if name.lower() != "content-length"
        ]
        headers.append((b"content-length", str(len(self.body)).encode("ascii")))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def request_target(scope) -> str:
    """The request target as the client sent it (still percent-encoded, query included): what a stage routes on and
    what a forwarder sends on."""
    target = scope["raw_path"].decode("ascii")
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("ascii")
    return target


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, chunked or not; ``HTTPError(413)`` (closing the connection) above ``limit`` bytes.

    A declared Content-Length over the limit is refused before reading: the client may never send it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPError(413, "body too large", close=True)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPError(413, "body too large", close=True)
            chunks.append(chunk)
    except ClientDisconnect:  # the client left, or the parser refused the rest of the body (and answered it)
        raise HTTPError(400, "the request ended before its body", close=True) from None
    return b"".join(chunks)


async def read_json_object(request: Request, limit: int = MAX_BODY_BYTES) -> dict:
    """The body as a JSON object (``{}`` when empty); ``HTTPError(400)`` for anything else."""
    raw = await read_body(request, limit)
    try:
        document = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise HTTPError(400, "the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise HTTPError(400, "the body must be a JSON object")
    return document


def json_endpoint(action: Callable[[dict, dict], object], refusals: tuple[type[Exception], ...] = ()):
    """A route endpoint over a blocking operation: ``action(path parameters, JSON object body)`` runs in the thread
    pool (it may take locks or call other processes: never in the event loop) and its answer is sent as JSON. An
    exception of ``refusals`` is the client's error: its ``status`` (400 if it has none) and its ``message`` (or its
    text)."""

    async def endpoint(request: Request) -> Response:
        body = await read_json_object(request)
        try:
            answer = await run_in_threadpool(action, request.path_params, body)
        except refusals as error:
            raise HTTPError(getattr(error, "status", 400), getattr(error, "message", str(error))) from None
        return json_response(200, answer)

    return endpoint


async def with_network_delay(seconds: float, answer: Callable[[], Awaitable[Response]]) -> Response:
    """``answer()`` delayed by a round trip: half on the way in, half on the way out, as on a real path.

    The function acts mid-way, which is what the lag probe's one-way correction (dashboard engine) assumes of a
    real network too. Sleeping in the event loop keeps slow answers from queueing behind each other. A first sleep
    that wakes late (a busy machine) shortens the second by as much, so the round trip stays the modelled one."""
    if seconds <= 0:
        return await answer()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.sleep(seconds / 2)
    late = loop.time() - started - seconds / 2
    response = await answer()
    await asyncio.sleep(max(0.0, seconds / 2 - late))
    return response


def web_app(routes: list[BaseRoute], server_name: str, error_field: str = "error",
            loopback_only: bool = False, fallback=None):
    """A Starlette app with the kit's error answers, default headers and, for admin APIs, the loopback rule.

    ``fallback`` (an ASGI app) answers every request whose path is under none of the routes, whatever its method
    or path: a stage or a forwarder must see any path (a route pattern's ``.*`` would not match a decoded
    newline). It is called directly, without Starlette's routing and middleware: it is the request path of the
    gateway and of the geo router, and their layers cost ~5% of one region's ceiling (bench/local_cloud)."""
    errors = _Errors(server_name, error_field)
    app = Starlette(routes=routes, exception_handlers=errors.handlers())
    if loopback_only:
        app.add_middleware(_LoopbackOnly, errors=errors)
    if fallback is not None:
        app = _Fallback(app, fallback, routes, errors)
    return _DefaultHeaders(app, server_name)


class _Errors:
    """Every error answer of an app, as JSON ``{error_field: message}``: the one place exceptions become answers."""

    def __init__(self, server_name: str, error_field: str):
        self.server_name, self.field = server_name, error_field

    def response(self, status: int, message: str, close: bool = False, headers: dict | None = None) -> Response:
        extra = dict(headers or {})
        if close:
            extra["Connection"] = "close"
        return json_response(status, {self.field: message}, extra)

    def crash(self, method: str, path: str, exc: Exception) -> Response:
        log.exception("%s: %s %s failed", self.server_name, method, path)
        return self.response(500, f"{type(exc).__name__}: {exc}")

    def handlers(self) -> dict:
        async def on_http_error(request: Request, exc: HTTPError) -> Response:
            return self.response(exc.status, exc.message, exc.close)

        async def on_routing_error(request: Request, exc: StarletteHTTPException) -> Response:
            if exc.status_code == 405:
                allowed = (exc.headers or {}).get("Allow", "")
                message = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
                return self.response(405, message, headers=exc.headers)
            return self.response(exc.status_code, f"no route {request.method} {request.url.path}")

        async def on_crash(request: Request, exc: Exception) -> Response:
            return self.crash(request.method, request.url.path, exc)

        return {HTTPError: on_http_error, StarletteHTTPException: on_routing_error, Exception: on_crash}


class _Fallback:
    """Paths under a declared route go to the Starlette app; every other request to ``fallback``, errors answered
    by the same ``_Errors``."""

    def __init__(self, app, fallback, routes: list[BaseRoute], errors: _Errors):
        self.app, self.fallback, self.errors = app, fallback, errors
        self.prefixes = tuple(route.path.split("{")[0] for route in routes)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or (self.prefixes and scope["path"].startswith(self.prefixes)):
            return await self.app(scope, receive, send)
        try:
            await self.fallback(scope, receive, send)
        except HTTPError as error:
            await self.errors.response(error.status, error.message, error.close)(scope, receive, send)
        except Exception as error:  # a failure is answered in JSON, never a traceback to the client
            await self.errors.crash(scope["method"], scope["path"], error)(scope, receive, send)


class _DefaultHeaders:
    """Adds ``Server`` and ``Date`` to an answer that has none (pure ASGI: no Request or Response objects)."""

    def __init__(self, app, server_name: str):
        self.app, self.server = app, server_name.encode("latin-1")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_defaults(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = [name.lower() for name, _ in headers]
                if b"server" not in names:
                    headers.append((b"server", self.server))
                if b"date" not in names:
                    headers.append((b"date", _http_date()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_defaults)


class _LoopbackOnly:
    """Admin and control APIs answer loopback clients only (``loopback.py`` is the rule)."""

    def __init__(self, app, errors: _Errors):
        self.app, self.errors = app, errors

    async def __call__(self, scope, receive, send):
        client = scope.get("client")
        if scope["type"] == "http" and not is_loopback(client[0] if client else None):
            refusal = self.errors.response(403, "this API answers loopback clients only", close=True)
            return await refusal(scope, receive, send)
        await self.app(scope, receive, send)


_date_cache: tuple[int, bytes] = (0, b"")


def _http_date() -> bytes:
    """RFC 7231 date, computed once a second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode("ascii"))
    return _date_cache[1]

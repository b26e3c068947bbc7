"""The HTTP kit every local endpoint uses (backend/local/web), on a real uvicorn server on 127.0.0.1.

Bodies (the one reader and its limit), protocol errors answered as JSON, raw UTF-8 in the target, errors in one
place, the network delay, and a loud failure if the uvicorn internals the parser relies on change.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import time

import pytest
import requests
import uvicorn
from starlette.routing import Route
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from backend.local.limits import MAX_BODY_BYTES
from backend.local.web import (
    HTTPError,
    WebServer,
    json_response,
    read_body,
    read_json_object,
    web_app,
    with_network_delay,
)

UNSPECIFIED = str(ipaddress.IPv4Address(0))  # the wildcard address: refused before anything binds it


async def _echo(request):
    return json_response(200, {"got": await read_json_object(request, limit=100)})


async def _path(request):
    return json_response(200, {"raw_path": request.scope["raw_path"].decode("ascii")})


async def _teapot(request):
    raise HTTPError(418, "short and stout")


async def _crash(request):
    raise RuntimeError("boom")


async def _big(request):
    return json_response(200, {"size": len(await read_body(request))})


async def _slow(request):
    return await with_network_delay(0.2, lambda: _path(request))


@pytest.fixture(scope="module")
def server():
    app = web_app(
        [
            Route("/", _echo, methods=["POST"]),
            Route("/teapot", _teapot),
            Route("/crash", _crash),
            Route("/big", _big, methods=["POST"]),
            Route("/slow", _slow),
            Route("/only-get", _path, methods=["GET"]),
            Route("/p/{rest:path}", _path, methods=["GET", "POST"]),
        ],
        "kit-test",
    )
    running = WebServer(app).start()
    yield running
    running.stop()


def exchange(server, raw: bytes) -> tuple[int, dict, dict, bool]:
    """Raw bytes in; (status, headers, JSON body, the server closed the connection) out."""
    with socket.create_connection(server.address, timeout=10) as conn:
        conn.sendall(raw)
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += conn.recv(65536)
        head, _, rest = reply.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        headers = {k.strip().lower().decode(): v.strip().decode() for k, v in (line.split(b":", 1) for line in lines[1:])}
        size = int(headers["content-length"])
        while len(rest) < size:
            rest += conn.recv(65536)
        conn.settimeout(1)
        try:
            closed = conn.recv(1) == b""
        except TimeoutError:
            closed = False
        return int(lines[0].split()[1]), headers, json.loads(rest), closed


def post(body: bytes, length=None, path="/") -> bytes:
    size = len(body) if length is None else length
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n".encode() + body


@pytest.mark.parametrize(
    ("body", "length", "status", "answer", "closes"),
    [
        (b"", None, 200, {"got": {}}, False),
        (b'{"a": 1}', None, 200, {"got": {"a": 1}}, False),
        (b"{oops", None, 400, {"error": "the body is not valid JSON"}, False),
        (b"[1]", None, 400, {"error": "the body must be a JSON object"}, False),
        (b"x" * 101, None, 413, {"error": "body too large"}, True),
    ],
)
def test_bodies_get_their_status(server, body, length, status, answer, closes):
    got_status, _, document, closed = exchange(server, post(body, length))
    assert (got_status, document, closed) == (status, answer, closes)


@pytest.mark.parametrize("length", ["-5", "many"])  # read(-5) would hang until the client left
def test_a_content_length_that_cannot_be_honoured_is_a_400_and_closes(server, length):
    status, headers, document, closed = exchange(server, post(b"", length))
    assert (status, closed) == (400, True)
    assert headers["content-type"] == "application/json" and "Content-Length" in document["message"]


def test_the_one_body_limit_is_api_gateways_payload_limit(server):
    assert MAX_BODY_BYTES == 10 * 1024 * 1024
    status, _, document, closed = exchange(server, post(b"{}", MAX_BODY_BYTES + 1, "/big"))
    assert (status, document, closed) == (413, {"error": "body too large"}, True)
    chunked = b"POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    assert exchange(server, chunked)[2] == {"size": 5}


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        (b"GET /" + b"k" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: a\r\n" % i for i in range(120)) + b"\r\n", 431),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n", 400),
    ],
    ids=["unknown method", "target too long", "header too long", "too many headers", "bad chunk size"],
)
def test_unparseable_requests_are_answered_in_json_and_closed(server, raw, status):
    got, headers, document, closed = exchange(server, raw)
    assert (got, closed) == (status, True)
    assert headers["content-type"] == "application/json" and document["message"]


def test_raw_non_ascii_bytes_in_the_target_are_percent_encoded(server):
    raw = "GET /p/wörld HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    assert exchange(server, raw)[2] == {"raw_path": "/p/w%C3%B6rld"}
    assert exchange(server, b"GET /p/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n")[2] == {"raw_path": "/p/%FF%FE"}


def test_errors_are_json_in_one_place(server):
    assert exchange(server, b"GET /teapot HTTP/1.1\r\nHost: x\r\n\r\n")[:3:2] == (418, {"error": "short and stout"})
    status, _, document, _ = exchange(server, b"GET /crash HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (status, document) == (500, {"error": "RuntimeError: boom"})
    status, _, document, _ = exchange(server, b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 404 and "no route" in document["error"]
    status, headers, document, _ = exchange(server, b"DELETE /only-get HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 405 and "GET" in document["error"] and "GET" in headers["allow"]


def test_every_answer_has_one_server_and_one_date(server):
    _, headers, _, _ = exchange(server, b"GET /only-get HTTP/1.1\r\nHost: x\r\n\r\n")
    assert headers["server"] == "kit-test" and headers["date"].endswith("GMT")


def test_the_network_delay_is_applied_around_the_answer(server):
    started = time.monotonic()
    exchange(server, b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    assert time.monotonic() - started >= 0.2


def test_a_server_refuses_a_non_loopback_address():
    with pytest.raises(ValueError, match="loopback"):
        WebServer(web_app([], "x"), host=UNSPECIFIED)


def test_a_server_refuses_an_unknown_event_loop():
    with pytest.raises(ValueError, match="loop must be one of uvloop, asyncio"):
        WebServer(web_app([], "x"), loop="trio")


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_either_event_loop_serves_and_no_websocket_package_is_loaded(loop):
    running = WebServer(web_app([], "x"), loop=loop).start()
    try:
        answer = requests.get(f"{running.url}/nowhere", timeout=5)
        assert answer.status_code == 404 and answer.json() == {"error": "no route GET /nowhere"}
        # ws="none": upgrade requests are plain HTTP here, and uvicorn never imports a WebSocket implementation
        upgrade = requests.get(
            f"{running.url}/nowhere", headers={"Connection": "Upgrade", "Upgrade": "websocket"}, timeout=5
        )
        assert upgrade.status_code == 404
    finally:
        running.stop()
    assert "uvicorn.protocols.websockets.websockets_impl" not in sys.modules


def test_the_uvicorn_internals_the_parser_relies_on_are_there():
    """backend/local/web/protocol.py subclasses uvicorn's httptools protocol (written against uvicorn 0.54)."""
    for name in ("on_message_begin", "on_message_complete", "on_url", "on_header", "data_received",
                 "_unset_keepalive_if_required", "_unsupported_upgrade_warning"):
        assert callable(getattr(HttpToolsProtocol, name, None)), (
            f"uvicorn {uvicorn.__version__} has no HttpToolsProtocol.{name}: review backend/local/web/protocol.py"
        )

"""The admin APIs' shared body reading and JSON answers, on a real HTTP server on 127.0.0.1."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backend.local.json_api import BadBody, read_json_object, send_json


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_POST(self):  # noqa: N802
        try:
            send_json(self, 200, {"got": read_json_object(self, limit=100)})
        except BadBody as error:
            send_json(self, error.status, {"error": error.message})


@pytest.fixture(scope="module")
def port():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def post(port, body: bytes, length: str | None = None):
    """Raw HTTP, so a Content-Length can lie; returns (status, document, the server closed the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        head = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body) if length is None else length}\r\n\r\n"
        conn.sendall(head.encode() + body)
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += conn.recv(65536)
        head, _, rest = reply.partition(b"\r\n\r\n")
        size = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")).split(b":")[1])
        while len(rest) < size:
            rest += conn.recv(65536)
        conn.settimeout(1)
        try:
            closed = conn.recv(1) == b""
        except TimeoutError:
            closed = False
        return int(head.split()[1]), json.loads(rest), closed


@pytest.mark.parametrize(
    ("body", "length", "status", "answer", "closes"),
    [
        (b"", None, 200, {"got": {}}, False),
        (b'{"a": 1}', None, 200, {"got": {"a": 1}}, False),
        (b"{oops", None, 400, {"error": "the body is not valid JSON"}, False),
        (b"[1]", None, 400, {"error": "the body must be a JSON object"}, False),
        (b"", "-5", 400, {"error": "bad Content-Length"}, True),  # read(-5) would hang until the client left
        (b"", "many", 400, {"error": "bad Content-Length"}, True),
        (b"x" * 101, None, 413, {"error": "body too large"}, True),
    ],
)
def test_bodies_get_their_status(port, body, length, status, answer, closes):
    assert post(port, body, length) == (status, answer, closes)

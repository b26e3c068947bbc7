"""What the loopback JSON admin APIs share (the control API, the replicator's admin API): reading a JSON object
body and answering a JSON document. The region's admin API answers through ``events.HttpResponse`` instead."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler


class BadBody(ValueError):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def read_json_object(handler: BaseHTTPRequestHandler, limit: int) -> dict:
    """The request's body as a JSON object (``{}`` when empty); ``BadBody`` with the status to answer otherwise.

    A Content-Length that can't be honoured also closes the connection: the body's end is unknown."""
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        length = -1
    if length < 0:  # read(-1) would wait for the client to close
        handler.close_connection = True
        raise BadBody(400, "bad Content-Length")
    if length > limit:
        handler.close_connection = True
        raise BadBody(413, "body too large")
    raw = handler.rfile.read(length) if length else b""
    try:
        document = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise BadBody(400, "the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise BadBody(400, "the body must be a JSON object")
    return document


def send_json(handler: BaseHTTPRequestHandler, status: int, document) -> None:
    body = json.dumps(document).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)

"""The replicator's admin API: loopback JSON on http.server. GET /status, GET /replication-latency,
POST /pause|/resume {"region"}, POST /delay {"ms": int|null}, POST /network {"mode"}, POST /reset.

``ROUTES`` maps (method, path) to a function of (replicator, JSON body) that checks the body (``ValueError`` → 400)
and calls one method of the replicator; the handler only refuses non-loopback clients, reads the body and answers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from backend.local.json_api import BadBody, read_json_object, send_json
from backend.local.loopback import is_loopback

log = logging.getLogger("backend.local.replicator")


def _region(body: dict) -> str:
    region = body.get("region")
    if not isinstance(region, str):
        raise ValueError('send {"region": "<region name>"}')
    return region


def _delay(replicator, body: dict) -> dict:
    if "ms" not in body:
        raise ValueError('send {"ms": <milliseconds>} or {"ms": null} for the network model')
    ms = body["ms"]
    if ms is not None and (isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms <= 600_000):
        raise ValueError('"ms" must be an integer from 0 to 600000, or null')
    replicator.set_delay(ms)
    return {"delay_override_ms": ms}


def _network(replicator, body: dict) -> dict:
    mode = body.get("mode")
    if mode not in ("realistic", "none"):
        raise ValueError('"mode" must be "realistic" or "none"')
    replicator.set_network(mode)
    return {"network": mode}


def _reset(replicator, body: dict) -> dict:
    replicator.reset()
    return {"reset": True}


ROUTES: dict[tuple[str, str], Callable[[object, dict], dict]] = {
    ("GET", "/status"): lambda replicator, body: replicator.status(),
    ("GET", "/replication-latency"): lambda replicator, body: replicator.latency(),
    ("POST", "/pause"): lambda replicator, body: {"paused": replicator.pause(_region(body))},
    ("POST", "/resume"): lambda replicator, body: {"paused": replicator.resume(_region(body))},
    ("POST", "/delay"): _delay,
    ("POST", "/network"): _network,
    ("POST", "/reset"): _reset,
}


class AdminServer:
    """Loopback JSON API: GET /status, GET /replication-latency, POST /pause|/resume {"region"},
    POST /delay {"ms": int|null}, POST /network {"mode"}, POST /reset."""

    def __init__(self, replicator, host: str = "127.0.0.1", port: int = 0):
        self.replicator = replicator
        handler = type("Handler", (_AdminHandler,), {"replicator": replicator})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="admin", daemon=True)

    @property
    def address(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _AdminHandler(BaseHTTPRequestHandler):
    replicator = None  # set by AdminServer on a subclass
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.debug("admin: " + format, *args)

    def _send(self, status: int, document: dict) -> None:
        send_json(self, status, document)

    def _refuse_non_loopback(self) -> bool:
        """Pause and reset change the whole cloud: loopback clients only, as the control API and region admin."""
        loopback = is_loopback(self.client_address[0])
        if not loopback:
            self.close_connection = True
            self._send(403, {"error": "the replicator's admin API answers loopback clients only"})
        return not loopback

    def do_GET(self):  # noqa: N802
        if self._refuse_non_loopback():
            return
        self._route("GET", {})

    def do_POST(self):  # noqa: N802
        if self._refuse_non_loopback():
            return
        try:
            body = read_json_object(self, limit=65536)
        except BadBody as error:
            return self._send(error.status, {"error": error.message})
        self._route("POST", body)

    def _route(self, method: str, body: dict) -> None:
        route = ROUTES.get((method, self.path))
        if route is None:
            other = next((m for (m, path) in ROUTES if path == self.path), None)
            if other is not None:
                return self._send(405, {"error": f"use {other} for {self.path}"})
            return self._send(404, {"error": f"no such path {self.path}"})
        try:
            return self._send(200, route(self.replicator, body))
        except ValueError as error:
            return self._send(400, {"error": str(error)})

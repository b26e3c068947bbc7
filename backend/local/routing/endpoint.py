"""The global endpoint: what a client of the latency record reaches, the chosen region's API Gateway stage.

Forwards ``/{key}`` to the chosen region's ``/dev/{key}`` over keep-alive connections (one per region per worker
thread), delays the answer by the jittered round trip from the client to that region (the region is told, by
``HOP_HEADER``, not to add its own), and names the region that served it in ``X-Served-Region``. Route 53 only
answers DNS: the client talks to the region's API Gateway, so the region's ``Server`` and ``Date`` are the ones it
sees (the kit adds its own only where an answer has none).
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from backend.local.gateway.events import HOP_HEADER
from backend.local.routing.geo import GeoRouter
from backend.local.web import RawResponse, read_body, request_target, web_app, with_network_delay

log = logging.getLogger("backend.local.routing")

SERVED_REGION_HEADER = "X-Served-Region"
SERVER_NAME = "local-route53"
_HOP_BY_HOP = {
    "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "host",
    "content-length",
}


class _Upstreams(threading.local):
    """One keep-alive connection per region per worker thread."""

    def __init__(self):
        self.connections: dict[str, http.client.HTTPConnection] = {}


class Forwarder:
    """Sends a request to a region's stage and returns its answer; 503 if the region can't be reached."""

    def __init__(self, region_urls: dict[str, str]):
        self.region_urls = dict(region_urls)
        self._upstreams = _Upstreams()

    def forward(self, region: str, method: str, path: str, headers: dict, body: bytes):
        """(status, headers, body) of the request sent to ``region``'s stage (blocking: run it in a thread)."""
        target = urlsplit(self.region_urls[region])
        upstream_path = target.path.rstrip("/") + (path if path.startswith("/") else "/" + path)
        for attempt in (1, 2):  # a kept-alive connection the region closed meanwhile gets one fresh retry
            connection = self._upstreams.connections.get(region)
            if connection is None:
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                self._upstreams.connections[region] = connection
            try:
                connection.request(method, upstream_path, body=body or None, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                if response.will_close:
                    connection.close()
                    self._upstreams.connections.pop(region, None)
                return response.status, response.getheaders(), payload
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                self._upstreams.connections.pop(region, None)
                if attempt == 2 or isinstance(error, ConnectionRefusedError):
                    log.warning("region %s unreachable: %s", region, error)
                    document = {"message": f"Service Unavailable: region {region} did not answer"}
                    return 503, [("Content-Type", "application/json")], json.dumps(document).encode()
        raise AssertionError("unreachable")


class _GlobalEndpoint:
    """Every method and path of the global endpoint (a plain ASGI app: the kit's fallback, so any method and path reach it)."""

    def __init__(self, router: GeoRouter, forwarder: Forwarder):
        self.router, self.forwarder = router, forwarder

    async def __call__(self, scope, receive, send):
        request = Request(scope, receive)
        body = await read_body(request)
        region = self.router.choose()
        headers = {name: value for name, value in request.headers.items() if name.lower() not in _HOP_BY_HOP}
        headers[HOP_HEADER] = "router"
        target = request_target(scope)

        async def answer():
            status, upstream_headers, payload = await run_in_threadpool(
                self.forwarder.forward, region, request.method, target, headers, body
            )
            kept = [(name, value) for name, value in upstream_headers if name.lower() not in _HOP_BY_HOP]
            return RawResponse(status, kept + [(SERVED_REGION_HEADER, region)], payload)

        response = await with_network_delay(self.router.delay_s(region), answer)
        await response(scope, receive, send)


def global_app(router: GeoRouter):
    """The global endpoint's app: every request goes to the region ``router`` chooses."""
    endpoint = _GlobalEndpoint(router, Forwarder(router.region_urls))
    return web_app([], SERVER_NAME, error_field="message", fallback=endpoint)

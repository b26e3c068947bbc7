"""The global endpoint: Route 53 latency-based routing with health checks, emulated in front of the local regions.

- ``HealthChecker`` polls every region's ``/dev/_health`` each ``interval_s``; a region turns unhealthy after
  ``failure_threshold`` consecutive failures and healthy again after as many successes (Route 53 health checks:
  interval 10 or 30 s, threshold 1-10, default 30 s × 3; the demo default here is 1 s × 2). A check fails on a
  non-2xx/3xx answer, a refused connection, or no answer within ``timeout_s`` (Route 53: 2 s).
- ``GeoRouter.choose()`` answers as a latency record set does: the healthy region with the lowest modelled latency
  from the client location; when no region is healthy, all are treated as healthy (Route 53 does the same). With a
  DNS TTL the answer is cached for that long (a resolver's cache), even if the region fails meanwhile.
- ``GlobalServer`` forwards ``/{key}`` to the chosen region's ``/dev/{key}`` over keep-alive connections, delays the
  answer by the jittered RTT from the client to that region (the region itself is told not to add its own), and
  names the region that served it in ``X-Served-Region``.

Clocks are injectable (``clock`` returns monotonic seconds) so tests can drive health and TTL without sleeping.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from backend.local import events, network

log = logging.getLogger("backend.local.router")

SERVED_REGION_HEADER = "X-Served-Region"
HOP_HEADER = events.HOP_HEADER
DEFAULT_INTERVAL_S = 1.0
DEFAULT_FAILURE_THRESHOLD = 2
DEFAULT_TTL_S = 0.0
HEALTH_TIMEOUT_S = 2.0
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "host",
}


def check_routing_settings(interval_s, failure_threshold, ttl_s) -> tuple[float, int, float]:
    """Validated health-check and DNS settings; ValueError with a clear message otherwise."""
    if (
        isinstance(interval_s, bool)
        or not isinstance(interval_s, (int, float))
        or not 0.05 <= interval_s <= 300
    ):
        raise ValueError("health_interval_s must be a number of seconds in [0.05, 300] (Route 53: 10 or 30)")
    if (
        isinstance(failure_threshold, bool)
        or not isinstance(failure_threshold, int)
        or not 1 <= failure_threshold <= 10
    ):
        raise ValueError("failure_threshold must be an integer in [1, 10], as on Route 53")
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, (int, float)) or not 0 <= ttl_s <= 86400:
        raise ValueError("dns_ttl_s must be a number of seconds in [0, 86400]")
    return float(interval_s), int(failure_threshold), float(ttl_s)


class RegionHealth:
    __slots__ = ("healthy", "failures", "successes", "last_checked", "last_result")

    def __init__(self):
        self.healthy = True  # Route 53 considers a new endpoint healthy until checks say otherwise
        self.failures = 0
        self.successes = 0
        self.last_checked: float | None = None
        self.last_result = "not checked yet"


class HealthChecker:
    """Health of each region from periodic checks. ``record()`` is the pure state machine; ``start()`` polls."""

    def __init__(
        self,
        region_urls: dict[str, str],
        interval_s: float = DEFAULT_INTERVAL_S,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        timeout_s: float = HEALTH_TIMEOUT_S,
        clock=time.monotonic,
    ):
        self.region_urls = dict(region_urls)
        self.interval_s, self.failure_threshold, _ = check_routing_settings(interval_s, failure_threshold, 0)
        self.timeout_s = timeout_s
        self.clock = clock
        self._lock = threading.Lock()
        self._health = {region: RegionHealth() for region in region_urls}
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self.on_change = None  # called with no arguments when a region changes health

    def configure(self, interval_s: float, failure_threshold: int) -> None:
        with self._lock:
            self.interval_s, self.failure_threshold = interval_s, failure_threshold
        self._wake.set()

    def healthy(self, region: str) -> bool:
        with self._lock:
            return self._health[region].healthy

    def snapshot(self) -> dict:
        with self._lock:
            return {
                region: {
                    "healthy": h.healthy,
                    "consecutive_failures": h.failures,
                    "consecutive_successes": h.successes,
                    "last_result": h.last_result,
                    "checked_ago_s": None
                    if h.last_checked is None
                    else round(self.clock() - h.last_checked, 3),
                }
                for region, h in self._health.items()
            }

    def record(self, region: str, ok: bool, detail: str = "") -> None:
        """One check's outcome: flips health after ``failure_threshold`` consecutive opposite outcomes."""
        changed = False
        with self._lock:
            h = self._health[region]
            h.last_checked = self.clock()
            h.last_result = detail or ("ok" if ok else "failed")
            if ok:
                h.successes, h.failures = h.successes + 1, 0
                if not h.healthy and h.successes >= self.failure_threshold:
                    h.healthy, changed = True, True
            else:
                h.failures, h.successes = h.failures + 1, 0
                if h.healthy and h.failures >= self.failure_threshold:
                    h.healthy, changed = False, True
        if changed:
            log.info("region %s is now %s", region, "healthy" if ok else "unhealthy")
            if self.on_change:
                self.on_change()

    def check(self, region: str) -> None:
        ok, detail = probe_health(self.region_urls[region], self.timeout_s)
        self.record(region, ok, detail)

    def start(self) -> None:
        for region in self.region_urls:
            thread = threading.Thread(target=self._loop, args=(region,), name=f"health-{region}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=HEALTH_TIMEOUT_S + 1)

    def _loop(self, region: str) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self.check(region)
            except Exception as error:  # a checker must never die
                self.record(region, False, f"checker error: {error}")
            wait = max(0.0, self.interval_s - (time.monotonic() - started))
            self._stopping.wait(wait)


def probe_health(api_url: str, timeout_s: float) -> tuple[bool, str]:
    """(ok, detail) of one GET {api}/_health, as a Route 53 HTTP health check judges it (2xx or 3xx in time)."""
    parts = urlsplit(api_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
    try:
        connection.request("GET", parts.path.rstrip("/") + "/_health", headers={HOP_HEADER: "health-check"})
        response = connection.getresponse()
        response.read()
        return 200 <= response.status < 400, f"HTTP {response.status}"
    except (OSError, http.client.HTTPException) as error:
        return False, f"{type(error).__name__}: {error}"
    finally:
        connection.close()


class GeoRouter:
    """Latency-based routing decisions from the health checker, the client location and an optional DNS TTL."""

    def __init__(
        self,
        region_urls: dict[str, str],
        health: HealthChecker,
        client_location: str = network.DEFAULT_CLIENT_LOCATION,
        mode: str = "realistic",
        ttl_s: float = DEFAULT_TTL_S,
        clock=time.monotonic,
        rng=None,
    ):
        self.region_urls = dict(region_urls)
        self.health = health
        self.clock = clock
        self._lock = threading.Lock()
        self.client_text = client_location
        self.client = network.parse_location(client_location)
        self.model = network.LatencyModel(mode, rng=rng)
        _, _, self.ttl_s = check_routing_settings(health.interval_s, health.failure_threshold, ttl_s)
        self._cached: tuple[str, float] | None = None  # (region, expires at)

    @property
    def mode(self) -> str:
        return self.model.mode

    def set_client_location(self, text: str) -> None:
        client = network.parse_location(text)
        with self._lock:
            self.client, self.client_text, self._cached = (
                client,
                text,
                None,
            )  # a new client: a fresh DNS lookup

    def set_mode(self, mode: str) -> None:
        model = network.LatencyModel(mode)
        with self._lock:
            self.model = model

    def set_ttl(self, ttl_s: float) -> None:
        with self._lock:
            self.ttl_s, self._cached = ttl_s, None

    def order(self) -> list[str]:
        """Regions by modelled latency from the client, nearest first."""
        return network.nearest_regions(self.client, self.region_urls)

    def choose(self) -> str:
        """The region a latency record would resolve to now."""
        now = self.clock()
        with self._lock:
            if self._cached is not None and self.ttl_s > 0 and now < self._cached[1]:
                return self._cached[0]
            ordered = network.nearest_regions(self.client, self.region_urls)
            healthy = [region for region in ordered if self.health.healthy(region)]
            chosen = (healthy or ordered)[0]  # nobody healthy: Route 53 answers as if all were
            self._cached = (chosen, now + self.ttl_s)
            return chosen

    def delay_s(self, region: str) -> float:
        return self.model.rtt_ms(self.client, network.region(region)) / 1000.0

    def snapshot(self) -> dict:
        return {
            "client_location": self.client_text,
            "network": self.mode,
            "health_interval_s": self.health.interval_s,
            "failure_threshold": self.health.failure_threshold,
            "dns_ttl_s": self.ttl_s,
            "order": self.order(),
            "current_choice": self.choose(),
            "health": self.health.snapshot(),
        }


class _Upstreams(threading.local):
    """One keep-alive connection per region per router thread."""

    def __init__(self):
        self.connections: dict[str, http.client.HTTPConnection] = {}


class RouterHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "local-route53"

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002
        pass

    def send_error(self, code, message=None, explain=None):
        # Called by http.server for requests it cannot parse; its default answer is an HTML page.
        self.close_connection = True
        response = events.protocol_error(code, message or self.responses.get(code, ("Error",))[0])
        self._reply(response.status, response.headers, response.body, None)

    def do_GET(self):  # noqa: N802
        self._forward()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET  # noqa: N815

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        return self.rfile.read(length) if length > 0 else b""

    def _forward(self) -> None:
        server: GlobalServer = self.server.global_server
        try:
            body = self._body()
        except ValueError:
            self.close_connection = True
            self._reply(400, [("Content-Type", "application/json")], b'{"message":"Bad Request"}', None)
            return
        region = server.router.choose()
        headers = {name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP}
        headers[HOP_HEADER] = "router"
        # Half the round trip on the way in, half on the way out, as the region itself does.
        delay = server.router.delay_s(region)
        if delay > 0:
            time.sleep(delay / 2)
        status, response_headers, payload = server.forward(
            region, self.command, events.request_target(self.path), headers, body
        )
        if delay > 0:
            time.sleep(delay / 2)
        self._reply(status, response_headers, payload, region)

    def _reply(self, status, headers, payload: bytes, region: str | None) -> None:
        # Route 53 only answers DNS: the client talks to the region's API Gateway, so its Server and Date are the
        # ones the client sees. send_response would add ours too, and a second Date header is invalid HTTP.
        self.send_response_only(status)
        names = {name.lower() for name, _ in headers}
        if "server" not in names:
            self.send_header("Server", self.version_string())
        if "date" not in names:
            self.send_header("Date", self.date_time_string())
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        if region:
            self.send_header(SERVED_REGION_HEADER, region)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class GlobalServer:
    """The global endpoint's HTTP server. ``start()``, ``url``, ``stop()``."""

    def __init__(self, router: GeoRouter, host: str = "127.0.0.1", port: int = 0, stage: str = "dev"):
        self.router = router
        self.host, self.port, self.stage = host, port, stage
        self._upstreams = _Upstreams()
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> GlobalServer:
        self._server = _HTTPServer((self.host, self.port), RouterHandler)
        self._server.global_server = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="global", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def address(self) -> tuple[str, int]:
        return self._server.server_address[:2]

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def forward(self, region: str, method: str, path: str, headers: dict, body: bytes):
        """(status, headers, body) of the request sent to ``region``'s stage; 503 if it can't be reached."""
        target = urlsplit(self.router.region_urls[region])
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

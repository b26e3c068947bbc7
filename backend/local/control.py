"""The control API of the local cloud (loopback only) and its Python client, ``ControlClient``.

    python -m backend.local.control --config FILE

runs the "global" process: the geo router (``router.py``) and this control API, which share the routing state.
Config (JSON): {"regions": {"us-west-2": {"api": "http://127.0.0.1:P/dev", "dynamodb": …, "admin": …}, …},
"replicator": "http://127.0.0.1:P" | null, "host": "127.0.0.1", "global_port": 0, "control_port": 0,
"network": "realistic", "client_location": "Seattle", "health_interval_s": 1.0, "failure_threshold": 2,
"dns_ttl_s": 0}. When ready it prints ``READY {"global": url, "control": url}``.

Routes (JSON in, JSON out; a bad request is a 400 ``{"error": "…"}``):

| method and path | body | does |
|---|---|---|
| GET /status | | regions, health, endpoints, network, client location, router, replication (backlog, lag per pair) |
| PUT /client-location | {"location": "Frankfurt" or "lat,lon"} | moves the client (regions and router) |
| PUT /network | {"mode": "realistic"/"none"} | network realism everywhere (regions, router, replicator) |
| POST /regions/{region}/down, /up | | an outage of that region's endpoint (503 on every route), and its end |
| PUT /regions/{region}/clock | {"offset_ms": n} | skews the region's writer clock (conflict demos) |
| POST /replication/{region}/pause, /resume | | stops / restarts replication into that region |
| PUT /replication/delay | {"ms": n or null} | overrides every pair's replication delay (null: back to the model) |
| GET /replication/latency | | ReplicationLatency per source → destination (ms) |
| GET /routing, PUT /routing | {"health_interval_s", "failure_threshold", "dns_ttl_s"} | the router's settings |
| POST /reset | | empties every region and the replicator's queues |
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from backend.local import network
from backend.local.json_api import BadBody, read_json_object, send_json
from backend.local.loopback import is_loopback
from backend.local.router import GeoRouter, GlobalServer, HealthChecker, check_routing_settings

log = logging.getLogger("backend.local.control")
CALL_TIMEOUT_S = 10.0


class ControlError(Exception):
    """A control request that failed; ``status`` is the HTTP status (400: the request was wrong)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def _call(method: str, url: str, document=None, timeout: float = CALL_TIMEOUT_S):
    """JSON over HTTP with the stdlib; raises ControlError with the server's message."""
    data = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            message = json.loads(payload).get("error") or payload.decode(errors="replace")
        except (ValueError, AttributeError):
            message = payload.decode(errors="replace") or str(error)
        raise ControlError(message, error.code) from None
    except (OSError, urllib.error.URLError) as error:
        raise ControlError(f"{url} did not answer: {error}", 503) from None
    return json.loads(payload) if payload else None


class LocalCloudControl:
    """The operations, in process: the router's state is here; regions and replicator are called over HTTP."""

    def __init__(self, config: dict, router: GeoRouter, global_url: str):
        self.regions: dict[str, dict] = config["regions"]
        self.replicator_url: str | None = config.get("replicator")
        self.router = router
        self.global_url = global_url
        self.control_url: str | None = None
        self._lock = threading.Lock()  # one change at a time, so regions never disagree for long

    # -- helpers ------------------------------------------------------------------------------------------------

    def _region(self, name: str) -> dict:
        if name not in self.regions:
            raise ControlError(f"unknown region {name!r}; this cloud runs: {', '.join(self.regions)}")
        return self.regions[name]

    def _configure_regions(self, changes: dict, only: str | None = None) -> None:
        for name, region in self.regions.items():
            if only is None or name == only:
                _call("POST", region["admin"] + "/__admin/config", changes)

    def _replicator(self, method: str, path: str, document=None):
        if not self.replicator_url:
            raise ControlError("replication is not running in this local cloud (one region only)", 409)
        return _call(method, self.replicator_url + path, document)

    # -- operations -----------------------------------------------------------------------------------------------

    def set_client_location(self, location) -> dict:
        if not isinstance(location, str):
            raise ControlError('send {"location": "<city>"} or {"location": "lat,lon"}')
        try:
            network.parse_location(location)
        except ValueError as error:
            raise ControlError(str(error)) from None
        with self._lock:
            self._configure_regions({"client_location": location})
            self.router.set_client_location(location)
        return self.routing()

    def set_network(self, mode) -> dict:
        if mode not in network.NETWORK_MODES:
            raise ControlError(
                f"unknown network mode {mode!r}; use one of: {', '.join(network.NETWORK_MODES)}"
            )
        with self._lock:
            self._configure_regions({"network": mode})
            self.router.set_mode(mode)
            if self.replicator_url:
                self._replicator("POST", "/network", {"mode": mode})
        return {"network": mode}

    def set_region_down(self, region: str, down: bool) -> dict:
        self._region(region)
        with self._lock:
            self._configure_regions({"down": down}, only=region)
        return {"region": region, "down": down}

    def set_clock_offset(self, region: str, offset_ms) -> dict:
        self._region(region)
        if isinstance(offset_ms, bool) or not isinstance(offset_ms, (int, float)):
            raise ControlError('send {"offset_ms": <milliseconds>}')
        self._configure_regions({"clock_offset_ms": offset_ms}, only=region)
        return {"region": region, "clock_offset_ms": offset_ms}

    def set_replication_paused(self, region: str, paused: bool) -> dict:
        self._region(region)
        self._replicator("POST", "/pause" if paused else "/resume", {"region": region})
        return {"region": region, "replication_paused": paused}

    def set_replication_delay(self, ms) -> dict:
        if ms == "auto":
            ms = None
        if ms is not None and (isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms <= 3_600_000):
            raise ControlError(
                'send {"ms": <integer milliseconds, 0 to 3600000>} or {"ms": null} for the model'
            )
        self._replicator("POST", "/delay", {"ms": ms})
        return {"delay_override_ms": ms}

    def replication_latency(self) -> dict:
        return self._replicator("GET", "/replication-latency")

    def set_routing(self, document: dict) -> dict:
        current = self.router.snapshot()
        try:
            interval, threshold, ttl = check_routing_settings(
                document.get("health_interval_s", current["health_interval_s"]),
                document.get("failure_threshold", current["failure_threshold"]),
                document.get("dns_ttl_s", current["dns_ttl_s"]),
            )
        except ValueError as error:
            raise ControlError(str(error)) from None
        unknown = set(document) - {"health_interval_s", "failure_threshold", "dns_ttl_s"}
        if unknown:
            raise ControlError(f"unknown routing settings: {', '.join(sorted(unknown))}")
        self.router.health.configure(interval, threshold)
        self.router.set_ttl(ttl)
        return self.routing()

    def routing(self) -> dict:
        return self.router.snapshot()

    def reset(self) -> dict:
        """Empties every region; the replicator forgets what it queued before and after (new streams)."""
        with self._lock:
            if self.replicator_url:
                self._replicator("POST", "/reset")
            for region in self.regions.values():
                _call("POST", region["admin"] + "/__admin/reset")
            if self.replicator_url:
                self._replicator("POST", "/reset")
        return {"reset": list(self.regions)}

    def status(self) -> dict:
        routing = self.router.snapshot()
        regions = {}
        for name, region in self.regions.items():
            try:
                config = _call("GET", region["admin"] + "/__admin/config", timeout=3)
            except ControlError as error:
                config = {"error": error.message}
            location = network.region(name)
            regions[name] = {
                "api": region["api"],
                "dynamodb": region["dynamodb"],
                "healthy": routing["health"][name]["healthy"],
                "down": config.get("down"),
                "clock_offset_ms": config.get("clock_offset_ms"),
                "modelled_rtt_ms": round(network.modelled_rtt_ms(self.router.client, location), 1),
                "fiber_floor_rtt_ms": round(network.fiber_floor_rtt_ms(self.router.client, location), 1),
                "name": location.name,
                "lat": location.lat,
                "lon": location.lon,
            }
        replication = None
        if self.replicator_url:
            try:
                replication = _call("GET", self.replicator_url + "/status", timeout=3)
            except ControlError as error:
                replication = {"error": error.message}
        return {
            "regions": regions,
            "endpoints": {
                "regions": {name: r["api"] for name, r in self.regions.items()},
                "global": self.global_url,
                "dynamodb": {name: r["dynamodb"] for name, r in self.regions.items()},
                "control": self.control_url,
            },
            "network": routing["network"],
            "client_location": routing["client_location"],
            "client": {
                "name": self.router.client.name,
                "lat": self.router.client.lat,
                "lon": self.router.client.lon,
            },
            "router": routing,
            "replication": replication,
        }


_ROUTES = [
    ("GET", r"/status", lambda c, m, d: c.status()),
    ("PUT", r"/client-location", lambda c, m, d: c.set_client_location(d.get("location"))),
    ("PUT", r"/network", lambda c, m, d: c.set_network(d.get("mode"))),
    ("POST", r"/regions/([a-z0-9-]+)/down", lambda c, m, d: c.set_region_down(m[1], True)),
    ("POST", r"/regions/([a-z0-9-]+)/up", lambda c, m, d: c.set_region_down(m[1], False)),
    ("PUT", r"/regions/([a-z0-9-]+)/clock", lambda c, m, d: c.set_clock_offset(m[1], d.get("offset_ms"))),
    ("POST", r"/replication/([a-z0-9-]+)/pause", lambda c, m, d: c.set_replication_paused(m[1], True)),
    ("POST", r"/replication/([a-z0-9-]+)/resume", lambda c, m, d: c.set_replication_paused(m[1], False)),
    ("PUT", r"/replication/delay", lambda c, m, d: c.set_replication_delay(d.get("ms", "missing"))),
    ("GET", r"/replication/latency", lambda c, m, d: c.replication_latency()),
    ("GET", r"/routing", lambda c, m, d: c.routing()),
    ("PUT", r"/routing", lambda c, m, d: c.set_routing(d)),
    ("POST", r"/reset", lambda c, m, d: c.reset()),
]


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "local-cloud-control"

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_GET(self):  # noqa: N802
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET  # noqa: N815

    def _reply(self, status: int, document) -> None:
        send_json(self, status, document)

    def _handle(self) -> None:
        loopback = is_loopback(self.client_address[0])
        if not loopback:
            self.close_connection = True
            self._reply(403, {"error": "the control API answers loopback clients only"})
            return
        try:
            document = read_json_object(self, limit=1_000_000)
        except BadBody as error:
            self._reply(error.status, {"error": error.message})
            return
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        allowed = []
        for method, pattern, action in _ROUTES:
            match = re.fullmatch(pattern, path)
            if not match:
                continue
            allowed.append(method)
            if method != self.command:
                continue
            try:
                self._reply(200, action(self.server.control, match, document))
            except ControlError as error:
                self._reply(error.status, {"error": error.message})
            except Exception as error:  # a failure is reported, never a traceback to the client
                log.exception("control %s %s failed", self.command, path)
                self._reply(500, {"error": f"{type(error).__name__}: {error}"})
            return
        if allowed:
            self._reply(405, {"error": f"{self.command} is not allowed on {path}; use {', '.join(allowed)}"})
        else:
            self._reply(404, {"error": f"no route {path}; see GET /status and backend/local/control.py"})


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class ControlServer:
    def __init__(self, control: LocalCloudControl, host: str = "127.0.0.1", port: int = 0):
        self.control = control
        self.host, self.port = host, port
        self._server: _HTTPServer | None = None

    def start(self) -> ControlServer:
        self._server = _HTTPServer((self.host, self.port), ControlHandler)
        self._server.control = self.control
        threading.Thread(target=self._server.serve_forever, args=(0.1,), name="control", daemon=True).start()
        self.control.control_url = self.url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"


class ControlClient:
    """The control API from Python. Every method raises ``ControlError`` (with the server's message) on failure."""

    def __init__(self, url: str, timeout: float = CALL_TIMEOUT_S):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, document=None):
        return _call(method, self.url + path, document, self.timeout)

    def status(self) -> dict:
        return self._call("GET", "/status")

    def set_client_location(self, location: str) -> dict:
        return self._call("PUT", "/client-location", {"location": location})

    def client_location(self) -> str:
        return self.routing()["client_location"]

    def set_network(self, mode: str) -> dict:
        return self._call("PUT", "/network", {"mode": mode})

    def network(self) -> str:
        return self.routing()["network"]

    def region_down(self, region: str) -> dict:
        return self._call("POST", f"/regions/{region}/down")

    def region_up(self, region: str) -> dict:
        return self._call("POST", f"/regions/{region}/up")

    def set_clock_offset(self, region: str, offset_ms: float) -> dict:
        return self._call("PUT", f"/regions/{region}/clock", {"offset_ms": offset_ms})

    def pause_replication(self, region: str) -> dict:
        """Stops replication into ``region`` (region isolation); writes elsewhere queue up."""
        return self._call("POST", f"/replication/{region}/pause")

    def resume_replication(self, region: str) -> dict:
        return self._call("POST", f"/replication/{region}/resume")

    def set_replication_delay(self, ms: int | None) -> dict:
        """Overrides every pair's delay (ms); None goes back to the network model."""
        return self._call("PUT", "/replication/delay", {"ms": ms})

    def replication_latency(self) -> dict:
        return self._call("GET", "/replication/latency")

    def routing(self) -> dict:
        return self._call("GET", "/routing")

    def set_routing(
        self,
        health_interval_s: float | None = None,
        failure_threshold: int | None = None,
        dns_ttl_s: float | None = None,
    ) -> dict:
        changes = {
            name: value
            for name, value in (
                ("health_interval_s", health_interval_s),
                ("failure_threshold", failure_threshold),
                ("dns_ttl_s", dns_ttl_s),
            )
            if value is not None
        }
        return self._call("PUT", "/routing", changes)

    def reset(self) -> dict:
        return self._call("POST", "/reset")


def build(config: dict) -> tuple[HealthChecker, GlobalServer, ControlServer]:
    """The global process's parts, started: health checker, global endpoint, control API."""
    host = config.get("host", "127.0.0.1")
    apis = {name: region["api"] for name, region in config["regions"].items()}
    interval, threshold, ttl = check_routing_settings(
        config.get("health_interval_s", 1.0), config.get("failure_threshold", 2), config.get("dns_ttl_s", 0.0)
    )
    health = HealthChecker(apis, interval, threshold)
    router = GeoRouter(
        apis,
        health,
        config.get("client_location", network.DEFAULT_CLIENT_LOCATION),
        config.get("network", "realistic"),
        ttl,
    )
    global_server = GlobalServer(router, host, int(config.get("global_port", 0))).start()
    control = LocalCloudControl(config, router, global_server.url)
    control_server = ControlServer(control, host, int(config.get("control_port", 0))).start()
    health.start()
    return health, global_server, control_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend.local.control", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--config", required=True, help="JSON config file (see the module docstring)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="[global] %(levelname)s %(name)s: %(message)s")
    try:
        with open(args.config) as file:
            config = json.load(file)
        health, global_server, control_server = build(config)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: the global process could not start: {error}", file=sys.stderr)
        return 2
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print("READY " + json.dumps({"global": global_server.url, "control": control_server.url}), flush=True)
    while not stopping.wait(0.2):
        pass
    # Nothing to save: exit without waiting for the serving threads' shutdown polls (~0.5 s each).
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())

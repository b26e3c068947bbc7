"""The replicator's admin API: loopback JSON on the project's HTTP kit (``backend/local/web``). GET /status, GET /replication-latency,
POST /pause|/resume {"region"}, POST /delay {"ms": int|null}, POST /network {"mode"}, POST /reset.

``ROUTES`` maps (method, path) to a function of (replicator, JSON body) that checks the body (``ValueError`` → 400)
and calls one method of the replicator; the kit refuses non-loopback clients, reads the body and answers errors.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import Route

from backend.local.web import WebServer, json_endpoint, web_app

SERVER_NAME = "local-replicator"


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


def admin_app(replicator):
    """Pause and reset change the whole cloud: loopback clients only, as the control API and the region admin."""
    # The replicator's methods take its locks: json_endpoint runs them in the thread pool, never in the event loop.
    routes = [
        Route(path, json_endpoint(lambda params, body, act=action: act(replicator, body), (ValueError,)), methods=[method])
        for (method, path), action in ROUTES.items()
    ]
    return web_app(routes, SERVER_NAME, loopback_only=True)


class AdminServer:
    """The admin API of ``replicator``, served on a loopback port: ``start()``, ``address`` (its URL), ``stop()``."""

    def __init__(self, replicator, host: str = "127.0.0.1", port: int = 0):
        self.replicator = replicator
        self.server = WebServer(admin_app(replicator), host, port, "replicator-admin", loop="asyncio")

    @property
    def address(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

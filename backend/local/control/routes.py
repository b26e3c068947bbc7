"""The control API over HTTP: each route of ``contracts.ROUTES`` calls one operation of ``LocalCloudControl``.

Operations call the regions and the replicator over HTTP, so they run in the kit's thread pool
(``web.json_endpoint``), never in the event loop; the app answers loopback clients only."""

from __future__ import annotations

from starlette.routing import Route

from backend.local.control.client import ControlError
from backend.local.control.contracts import ROUTES
from backend.local.web import json_endpoint, web_app

SERVER_NAME = "local-cloud-control"


def _actions(control) -> dict:
    """Route name → (path parameters, body) → answer."""
    return {
        "status": lambda p, d: control.status(),
        "client_location": lambda p, d: control.set_client_location(d.get("location")),
        "network": lambda p, d: control.set_network(d.get("mode")),
        "region_down": lambda p, d: control.set_region_down(p["region"], True),
        "region_up": lambda p, d: control.set_region_down(p["region"], False),
        "clock": lambda p, d: control.set_clock_offset(p["region"], d.get("offset_ms")),
        "pause": lambda p, d: control.set_replication_paused(p["region"], True),
        "resume": lambda p, d: control.set_replication_paused(p["region"], False),
        "isolate": lambda p, d: control.set_region_isolated(p["region"], True),
        "reconnect": lambda p, d: control.set_region_isolated(p["region"], False),
        "delay": lambda p, d: control.set_replication_delay(d.get("ms", "missing")),
        "latency": lambda p, d: control.replication_latency(),
        "routing": lambda p, d: control.routing(),
        "set_routing": lambda p, d: control.set_routing(d),
        "reset": lambda p, d: control.reset(),
    }


def control_app(control):
    """The control API's app over ``control`` (a ``LocalCloudControl``, or anything with its methods)."""
    actions = _actions(control)
    routes = [
        Route(route.path, json_endpoint(actions[name], (ControlError,)), methods=[route.method]) for name, route in ROUTES.items()
    ]
    return web_app(routes, SERVER_NAME, loopback_only=True)

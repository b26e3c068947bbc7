"""The control API's contract, shared by its server (``routes.py``) and its client (``client.py``): each route's
method, path and body fields, in one table. Every answer is JSON; an error is ``{"error": "…"}`` with its status
(400: the request was wrong; 404: no such route; 405: wrong method; 409: not possible in this cloud; 503: a part of
the cloud did not answer).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ControlRoute:
    method: str
    path: str  # Starlette path syntax: {region} is a path parameter
    body: tuple[str, ...]  # the JSON object fields it reads
    does: str

    def url_path(self, **params) -> str:
        return self.path.format(**params)


ROUTES: dict[str, ControlRoute] = {
    route_name: ControlRoute(*fields)
    for route_name, fields in {
        "status": ("GET", "/status", (), "regions, health, endpoints, network, client location, router, replication"),
        "client_location": (
            "PUT", "/client-location", ("location",),
            'moves the client ("Frankfurt", "us-east-1", "lat,lon" or "ping:/path/run.json")',
        ),
        "network": ("PUT", "/network", ("mode",), "network realism everywhere: realistic or none"),
        "region_down": ("POST", "/regions/{region}/down", (), "an outage of the region's endpoint (503 everywhere)"),
        "region_up": ("POST", "/regions/{region}/up", (), "the outage's end"),
        "clock": ("PUT", "/regions/{region}/clock", ("offset_ms",), "skews the region's writer clock"),
        "pause": ("POST", "/replication/{region}/pause", (), "stops replication into the region"),
        "resume": ("POST", "/replication/{region}/resume", (), "restarts replication into the region"),
        "isolate": (
            "POST", "/regions/{region}/isolate", (),
            "cuts the region off from the others: no replication into it; MRSC writes and strong reads fail there",
        ),
        "reconnect": ("POST", "/regions/{region}/reconnect", (), "the isolation's end: the region catches up"),
        "delay": ("PUT", "/replication/delay", ("ms",), "overrides every pair's delay (null: the model)"),
        "latency": ("GET", "/replication/latency", (), "ReplicationLatency (ms) and PendingReplicationCount per source → destination"),
        "routing": ("GET", "/routing", (), "the router's settings and health"),
        "set_routing": (
            "PUT", "/routing", ("health_interval_s", "failure_threshold", "dns_ttl_s"), "changes the router's settings"
        ),
        "reset": ("POST", "/reset", (), "empties every region and the replicator's queues"),
    }.items()
}

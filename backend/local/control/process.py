"""The "global" process of the local cloud: the geo router's endpoint and the control API, sharing the routing state.

    python -m backend.local.control --config FILE

Config (JSON): {"regions": {"us-west-2": {"api": "http://127.0.0.1:P/dev", "dynamodb": …, "admin": …}, …},
"replicator": "http://127.0.0.1:P" | null, "host": "127.0.0.1", "global_port": 0, "control_port": 0,
"network": "realistic", "client_location": "Seattle", "health_interval_s": 1.0, "failure_threshold": 2,
"dns_ttl_s": 0, "network_seed": null | int (the router's delay samples, reproducible)}. When ready it prints ``READY {"global": url, "control": url}``; SIGTERM or SIGINT stops it.
The control API's routes: ``contracts.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import sys
import threading

from backend.local import network
from backend.local.control.operations import LocalCloudControl
from backend.local.control.routes import control_app
from backend.local.routing.endpoint import global_app
from backend.local.routing.geo import GeoRouter
from backend.local.routing.health import HealthChecker, check_routing_settings
from backend.local.web import WebServer


def build(config: dict) -> tuple[HealthChecker, WebServer, WebServer]:
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
        rng=random.Random(config["network_seed"]) if config.get("network_seed") is not None else None,
    )
    global_server = WebServer(global_app(router), host, int(config.get("global_port", 0)), "global").start()
    control = LocalCloudControl(config, router, global_server.url)
    control_server = WebServer(control_app(control), host, int(config.get("control_port", 0)), "control").start()
    control.control_url = control_server.url
    health.start()
    return health, global_server, control_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.local.control", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="JSON config file (see the module docstring)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="[global] %(levelname)s %(name)s: %(message)s")
    try:
        with open(args.config) as file:
            config = json.load(file)
        health, global_server, control_server = build(config)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        print(f"error: the global process could not start: {error}", file=sys.stderr)
        return 2
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print("READY " + json.dumps({"global": global_server.url, "control": control_server.url}), flush=True)
    while not stopping.wait(0.2):
        pass
    global_server.close()
    control_server.close()
    # Nothing to save: exit without waiting for the servers' graceful shutdown.
    sys.stdout.flush()
    os._exit(0)

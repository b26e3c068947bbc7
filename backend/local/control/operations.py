"""What the control API does, in process: the router's state lives here; regions and the replicator are called over
their admin APIs. Each operation validates its input and raises ``ControlError`` (status 400 unless said)."""

from __future__ import annotations

import threading

from backend.local import network
from backend.local.control.client import ControlError, call_json
from backend.local.routing.geo import GeoRouter
from backend.local.routing.health import check_routing_settings

_call = call_json


class LocalCloudControl:
    """The operations, in process: the router's state is here; regions and replicator are called over HTTP."""

    def __init__(self, config: dict, router: GeoRouter, global_url: str):
        self.regions: dict[str, dict] = config["regions"]
        self.witnesses: dict[str, str] = config.get("witnesses") or {}  # MRSC witness region -> its admin URL
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

    def set_region_isolated(self, region: str, isolated: bool) -> dict:
        """Isolation: the region reaches no other region and none reaches it (its MRSC door refuses, its own calls
        fail), and the replicator stops (or resumes) applying into it."""
        if region in self.witnesses:
            admin = self.witnesses[region]
        else:
            admin = self._region(region)["admin"]
        with self._lock:
            _call("POST", admin + "/__admin/config", {"isolated": isolated})
            if self.replicator_url and region in self.regions:
                self._replicator("POST", "/pause" if isolated else "/resume", {"region": region})
        return {"region": region, "isolated": isolated}

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
            for admin in self.witnesses.values():
                _call("POST", admin + "/__admin/reset")
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
                "modelled_rtt_percentiles_ms": {
                    name: round(ms, 1)
                    for name, ms in network.rtt_percentiles_ms(self.router.client, location).items()
                },
                "modelled_rtt_source": network.rtt_source(self.router.client, location),
                # beside a calibrated figure, what the built-in model says for the same place
                "builtin_rtt_ms": round(
                    network.modelled_rtt_ms(network.builtin_location(self.router.client), location), 1
                ),
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

"""Route 53 latency-based routing, emulated: which region a latency record resolves to for the client now.

``GeoRouter.choose()`` answers as a latency record set does: the healthy region with the lowest modelled latency
from the client location; when no region is healthy, all are treated as healthy (Route 53 does the same). With a
DNS TTL the answer is cached for that long (a resolver's cache), even if the region fails meanwhile.
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-latency.html

The clock is injectable (``clock`` returns monotonic seconds) so tests drive the TTL without sleeping.
"""

from __future__ import annotations

import threading
import time

from backend.local import network
from backend.local.routing.health import DEFAULT_TTL_S, HealthChecker, check_routing_settings


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
        model = self.model.with_mode(mode)
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

"""Route 53 health checks, emulated: the health of each local region from periodic checks.

``HealthChecker`` polls every region's ``/dev/_health`` each ``interval_s``; a region turns unhealthy after
``failure_threshold`` consecutive failures and healthy again after as many successes (Route 53 health checks:
interval 10 or 30 s, threshold 1-10, default 30 s × 3; the demo default here is 1 s × 2). A check fails on a
non-2xx/3xx answer, a refused connection, or no answer within ``timeout_s`` (Route 53: 2 s).
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html

``record()`` is the pure state machine; the clock is injectable so tests drive health without sleeping.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from urllib.parse import urlsplit

from backend.local.gateway.events import HOP_HEADER

log = logging.getLogger("backend.local.routing")

DEFAULT_INTERVAL_S = 1.0
DEFAULT_FAILURE_THRESHOLD = 2
DEFAULT_TTL_S = 0.0
HEALTH_TIMEOUT_S = 2.0


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

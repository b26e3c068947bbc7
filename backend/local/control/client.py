"""The control API from Python (``ControlClient``), and the JSON-over-HTTP call that the control API itself uses
to reach the regions' and the replicator's admin APIs. Paths and bodies: ``contracts.py``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from backend.local.control.contracts import ROUTES

CALL_TIMEOUT_S = 10.0


class ControlError(Exception):
    """A control request that failed; ``status`` is the HTTP status (400: the request was wrong)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def call_json(method: str, url: str, document=None, timeout: float = CALL_TIMEOUT_S):
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


class ControlClient:
    """The control API from Python. Every method raises ``ControlError`` (with the server's message) on failure."""

    def __init__(self, url: str, timeout: float = CALL_TIMEOUT_S):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, route: str, document=None, **params):
        spec = ROUTES[route]
        return call_json(spec.method, self.url + spec.url_path(**params), document, self.timeout)

    def status(self) -> dict:
        return self._call("status")

    def set_client_location(self, location: str) -> dict:
        return self._call("client_location", {"location": location})

    def client_location(self) -> str:
        return self.routing()["client_location"]

    def set_network(self, mode: str) -> dict:
        return self._call("network", {"mode": mode})

    def network(self) -> str:
        return self.routing()["network"]

    def region_down(self, region: str) -> dict:
        return self._call("region_down", region=region)

    def region_up(self, region: str) -> dict:
        return self._call("region_up", region=region)

    def set_clock_offset(self, region: str, offset_ms: float) -> dict:
        return self._call("clock", {"offset_ms": offset_ms}, region=region)

    def pause_replication(self, region: str) -> dict:
        """Stops replication into ``region`` (region isolation); writes elsewhere queue up."""
        return self._call("pause", region=region)

    def resume_replication(self, region: str) -> dict:
        return self._call("resume", region=region)

    def isolate_region(self, region: str) -> dict:
        """Cuts ``region`` (a replica or the MRSC witness) off from the others: nothing replicates into it, and on
        an MRSC table its writes and strongly consistent reads fail while the other two regions serve."""
        return self._call("isolate", region=region)

    def reconnect_region(self, region: str) -> dict:
        """Ends the isolation: replication into the region resumes and it catches up."""
        return self._call("reconnect", region=region)

    def set_replication_delay(self, ms: int | None) -> dict:
        """Overrides every pair's delay (ms); None goes back to the network model."""
        return self._call("delay", {"ms": ms})

    def replication_latency(self) -> dict:
        """Per pair: ReplicationLatency (``p50_ms``, ``p99_ms``, ``max_ms``, ``recent``) and ``pending_replication_count``."""
        return self._call("latency")

    def pending_replication_count(self) -> dict[tuple[str, str], int]:
        """CloudWatch's PendingReplicationCount now, per (source, destination): updates not yet written there."""
        return {
            (pair["source"], pair["destination"]): pair["pending_replication_count"]
            for pair in self.replication_latency()["pairs"]
        }

    def routing(self) -> dict:
        return self._call("routing")

    def set_routing(
        self,
        health_interval_s: float | None = None,
        failure_threshold: int | None = None,
        dns_ttl_s: float | None = None,
    ) -> dict:
        given = {"health_interval_s": health_interval_s, "failure_threshold": failure_threshold, "dns_ttl_s": dns_ttl_s}
        return self._call("set_routing", {name: value for name, value in given.items() if value is not None})

    def reset(self) -> dict:
        return self._call("reset")

"""A small in-process stand-in for the local cloud, with KNOWN behaviour, for the engine's functional tests.

Real parts: HTTP on 127.0.0.1 (the project's own HTTP kit, keep-alive, through ``tests/stand_in.py``), the project's real
``backend.http.handle`` / ``KeyValueService`` / ``DynamoStore`` over in-process moto (one table per region).
Known by construction, so the probes' answers can be checked against it:

* ``one_way_ms[region]``: each response is delayed by that much before and again after the handler runs, so the
  round trip adds 2 x one_way (the server-side moment of a read sits in the middle, as on a real network);
* ``replication_delay_ms``: a write lands in every other region that long after it was applied (later when a
  loaded machine wakes the timer late), with last-writer-wins on (writtenAt, region); ``applied`` records when
  each value really became visible in each region, on the probes' own clock (``perf_counter``, same process);
* ``down``: a region whose set is marked down answers 503 to everything (health included); the global router sends
  each request to the first healthy region in ``preference`` order and names it in ``X-Served-Region``.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import unquote, urlsplit

import boto3
from stand_in import SeenRequest, StandIn

from backend.http import handle
from backend.items import Item, parse_value
from backend.service import KeyValueService
from backend.store import DynamoStore, table_definition

TABLE = "keyvalues"


def _answer_with(route):
    """A stand-in answer from ``route(method, path, body) -> (status, headers, payload text)``."""

    def answer(request: SeenRequest):
        body = request.body.decode("utf-8") if request.body else None
        status, headers, payload = route(request.method, urlsplit(request.path).path, body)
        return status, payload.encode("utf-8"), headers

    return answer


class FakeCloud:
    def __init__(self, regions=("us-west-2", "eu-central-1"), one_way_ms=None, replication_delay_ms=50.0):
        self.regions = list(regions)
        self.one_way_ms = dict(one_way_ms or {})
        self.replication_delay_ms = replication_delay_ms
        self.down: set[str] = set()
        self.preference = list(self.regions)
        # (region, key, value, perf_counter before the put, after it): when each value became visible where
        self.applied: list[tuple[str, str, str, float, float]] = []
        self._services = {}
        self._servers = []
        self._lock = threading.Lock()
        # Every write (local or replicated) holds this, so last-writer-wins decisions never race each other.
        self._write_lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._stopped = False
        self.urls: dict[str, str] = {}
        self.global_url = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self):
        for region in self.regions:
            client = boto3.client("dynamodb", region_name=region)
            client.create_table(**table_definition(TABLE))
            self._services[region] = KeyValueService(DynamoStore(client, TABLE), region)
            # moto loads its DynamoDB backend on first use (~0.3 s holding the GIL): do it now, not mid-probe.
            self._services[region].set_key("warm-up", "x")
            self._services[region].delete_key("warm-up")
            server = self._serve(lambda m, p, b, r=region: self._region_route(r, m, p, b))
            self.urls[region] = f"{server.url}/dev"
        self.global_url = self._serve(self._global_route).url
        return self

    def _serve(self, route):
        server = StandIn(_answer_with(route))
        self._servers.append(server)
        return server

    def stop(self):
        # Pending replications must never fire after the test's mock_aws has ended (boto3 would then try AWS).
        with self._lock:
            self._stopped = True
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        for timer in timers:
            timer.join(timeout=5)
        for server in self._servers:
            server.stop()
        self._servers.clear()

    # -- the control surface the failover probe drives (same method names as the local cloud's ControlClient) -
    def region_down(self, region):
        self.down.add(region)

    def region_up(self, region):
        self.down.discard(region)

    def endpoints(self) -> dict:
        return {"regions": dict(self.urls), "global": self.global_url}

    # -- routes ----------------------------------------------------------------------------------------------
    def _region_route(self, region, method, path, body):
        delay = self.one_way_ms.get(region, 0.0) / 1000.0
        if delay:
            time.sleep(delay)
        try:
            return self._region_answer(region, method, path, body)
        finally:
            if delay:
                time.sleep(delay)

    def _region_answer(self, region, method, path, body):
        if region in self.down:
            return 503, {"Content-Type": "application/json"}, json.dumps({"error": f"{region} is down"})
        if not path.startswith("/dev/"):
            return 403, {}, json.dumps({"message": "Missing Authentication Token"})
        key = unquote(path[len("/dev/") :])
        service = self._services[region]
        event = {
            "httpMethod": method,
            "pathParameters": None if key == "_health" else {"key": key},
            "body": body,
        }
        if key == "_health":
            answer = handle(event, lambda request: service.health(), "*")
        elif method == "GET":
            answer = handle(event, lambda request: service.get_key(request.key), "*")
        elif method == "POST":

            def write(request):
                with self._write_lock:
                    before = time.perf_counter()
                    result = service.set_key(request.key, parse_value(request.body))
                    after = time.perf_counter()
                self._replicate(region, result, before, after)
                return result

            answer = handle(event, write, "*")
        else:
            answer = handle(event, lambda request: service.delete_key(request.key), "*")
        return answer["statusCode"], answer["headers"], answer["body"]

    def _global_route(self, method, path, body):
        healthy = [r for r in self.preference if r not in self.down] or list(self.preference)
        region = healthy[0]
        status, headers, payload = self._region_route(region, method, "/dev" + path, body)
        return status, {**headers, "X-Served-Region": region}, payload

    # -- replication with a known delay and last-writer-wins -------------------------------------------------
    def _replicate(self, source, result, before, after):
        with self._lock:
            self.applied.append((source, result["key"], result["value"], before, after))
        for destination in self.regions:
            if destination != source:
                timer = threading.Timer(
                    self.replication_delay_ms / 1000.0, self._apply, (destination, result)
                )
                timer.daemon = True
                with self._lock:
                    if self._stopped:
                        return
                    self._timers = [t for t in self._timers if t.is_alive()]
                    self._timers.append(timer)
                    timer.start()

    def _apply(self, destination, result):
        with self._write_lock:
            if not self._stopped:
                self._apply_locked(destination, result)

    def _apply_locked(self, destination, result):
        store = self._services[destination]._store
        current = store.get(result["key"])
        incoming = (result["writtenAt"], result["region"])
        if current is not None and (current.written_at, current.region) >= incoming:
            return
        before = time.perf_counter()
        store.put(
            Item(
                key=result["key"],
                value=result["value"],
                region=result["region"],
                written_at=result["writtenAt"],
            )
        )
        with self._lock:
            self.applied.append((destination, result["key"], result["value"], before, time.perf_counter()))

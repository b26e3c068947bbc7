"""The control API over real HTTP on 127.0.0.1, with stand-ins for the region admin APIs and the replicator that
record what they are told: every operation reaches the right processes, in the right order, and bad requests are
400s with a clear message that change nothing."""

from __future__ import annotations

import pytest
import requests
from stand_in import SeenRequest, StandIn

from backend.local.control import ControlClient, ControlError
from backend.local.control.operations import LocalCloudControl
from backend.local.control.routes import control_app
from backend.local.routing.geo import GeoRouter
from backend.local.routing.health import HealthChecker
from backend.local.web import WebServer

US, EU = "us-west-2", "eu-central-1"


class Recorder:
    """A JSON server that records (name, method, path, body) into a shared log and answers ``{}`` or a config."""

    def __init__(self, name: str, log: list):
        self.name, self.log = name, log
        self.config = {"down": False, "clock_offset_ms": 0}
        self.stand_in = StandIn(self._answer)

    def _answer(self, request: SeenRequest):
        body = request.json()
        if request.method != "GET":
            self.log.append((self.name, request.method, request.path, body))
        if request.path == "/__admin/config" and body:
            self.config.update(body)
        return 200, (self.config if request.path == "/__admin/config" else {"pairs": []})

    @property
    def url(self) -> str:
        return self.stand_in.url

    def stop(self):
        self.stand_in.stop()


@pytest.fixture
def setup():
    log: list = []
    regions = {name: Recorder(name, log) for name in (US, EU)}
    replicator = Recorder("replicator", log)
    config = {
        "regions": {
            name: {"api": r.url + "/dev", "dynamodb": r.url, "admin": r.url} for name, r in regions.items()
        },
        "replicator": replicator.url,
    }
    health = HealthChecker({n: c["api"] for n, c in config["regions"].items()}, 1.0, 2)
    router = GeoRouter(health.region_urls, health, "Seattle", "none")
    control = LocalCloudControl(config, router, "http://127.0.0.1:1")
    server = WebServer(control_app(control)).start()
    yield ControlClient(server.url), log, router, server.url
    server.stop()
    for recorder in [*regions.values(), replicator]:
        recorder.stop()


def test_client_location_reaches_every_region_and_the_router(setup):
    client, log, router, _ = setup
    routing = client.set_client_location("Frankfurt")
    assert routing["current_choice"] == EU and router.client_text == "Frankfurt"
    assert sorted(entry[0] for entry in log) == [EU, US]
    assert all(entry[2:] == ("/__admin/config", {"client_location": "Frankfurt"}) for entry in log)


def test_network_mode_reaches_regions_router_and_replicator(setup):
    client, log, router, _ = setup
    client.set_network("realistic")
    assert router.mode == "realistic"
    assert ("replicator", "POST", "/network", {"mode": "realistic"}) in log
    assert {entry[0] for entry in log} == {US, EU, "replicator"}


def test_region_down_touches_only_that_region(setup):
    client, log, _, _ = setup
    client.region_down(EU)
    assert log == [(EU, "POST", "/__admin/config", {"down": True})]
    client.region_up(EU)
    assert log[-1] == (EU, "POST", "/__admin/config", {"down": False})
    assert client.status()["regions"][EU]["down"] is False


def test_replication_operations_reach_the_replicator(setup):
    client, log, _, _ = setup
    client.pause_replication(EU)
    client.resume_replication(EU)
    client.set_replication_delay(250)
    client.set_replication_delay(None)
    assert log == [
        ("replicator", "POST", "/pause", {"region": EU}),
        ("replicator", "POST", "/resume", {"region": EU}),
        ("replicator", "POST", "/delay", {"ms": 250}),
        ("replicator", "POST", "/delay", {"ms": None}),
    ]


def test_reset_clears_the_replicator_around_the_regions(setup):
    client, log, _, _ = setup
    client.reset()
    names = [entry[0] for entry in log]
    assert names[0] == "replicator" and names[-1] == "replicator"
    assert sorted(names[1:-1]) == [EU, US]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: c.set_client_location("Atlantis"), "Unknown location"),
        (lambda c: c.set_client_location("95,0"), "out of range"),
        (lambda c: c.set_network("fast"), "network mode"),
        (lambda c: c.region_down("mars-north-1"), "unknown region"),
        (lambda c: c.pause_replication("ap-south-1"), "unknown region"),
        (lambda c: c.set_replication_delay(-1), "ms"),
        (lambda c: c.set_replication_delay(True), "ms"),
        (lambda c: c.set_clock_offset(US, "soon"), "offset_ms"),
        (lambda c: c.set_routing(health_interval_s=0), "health_interval_s"),
    ],
)
def test_bad_requests_are_400_and_change_nothing(setup, call, message):
    client, log, router, _ = setup
    with pytest.raises(ControlError, match=message) as error:
        call(client)
    assert error.value.status == 400
    assert log == [] and router.client_text == "Seattle"


def test_malformed_http_is_answered_clearly(setup):
    _, _, _, url = setup
    assert requests.put(f"{url}/network", data="{oops").json()["error"] == "the body is not valid JSON"
    assert requests.put(f"{url}/network", data="[1]").status_code == 400
    missing = requests.get(f"{url}/nope")
    assert missing.status_code == 404 and "no route" in missing.json()["error"]
    wrong_method = requests.delete(f"{url}/status")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.json()["error"]


def test_routing_settings_round_trip(setup):
    client, _, router, _ = setup
    routing = client.set_routing(health_interval_s=30, failure_threshold=3, dns_ttl_s=60)
    assert (routing["health_interval_s"], routing["failure_threshold"], routing["dns_ttl_s"]) == (
        30.0,
        3,
        60.0,
    )
    assert router.health.interval_s == 30.0 and router.ttl_s == 60.0

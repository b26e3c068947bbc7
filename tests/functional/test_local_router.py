"""The geo router in process: health state machine, latency choice, DNS TTL (fake clock), and the global endpoint
forwarding over real HTTP to stand-in regions on 127.0.0.1."""

from __future__ import annotations

import pytest
import requests
from stand_in import SeenRequest, StandIn

from backend.local.gateway import events
from backend.local.routing.endpoint import global_app
from backend.local.routing.geo import GeoRouter
from backend.local.routing.health import HealthChecker, check_routing_settings
from backend.local.web import WebServer

US, EU, AP = "us-west-2", "eu-central-1", "ap-southeast-2"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def checker(regions=(US, EU), threshold=2, clock=None):
    return HealthChecker(
        {r: f"http://127.0.0.1:9/{r}/dev" for r in regions}, 1.0, threshold, clock=clock or FakeClock()
    )


def test_a_region_turns_unhealthy_after_threshold_failures_and_back_after_as_many_successes():
    health = checker(threshold=3)
    assert health.healthy(US)  # healthy until checks say otherwise
    health.record(US, False)
    health.record(US, False)
    assert health.healthy(US)
    health.record(US, False)
    assert not health.healthy(US)
    health.record(US, True)
    health.record(US, False)  # a success in between resets the count
    health.record(US, True)
    health.record(US, True)
    assert not health.healthy(US)
    health.record(US, True)
    assert health.healthy(US)


def test_router_picks_the_nearest_healthy_region():
    health = checker((US, EU, AP), threshold=1)
    router = GeoRouter(health.region_urls, health, "Seattle", "none")
    assert router.choose() == US
    assert router.order() == [US, EU, AP]
    health.record(US, False)
    assert router.choose() == EU
    router.set_client_location("Sydney")
    assert router.choose() == AP
    router.set_client_location("-33.9,151.2")
    assert router.choose() == AP


def test_when_every_region_is_unhealthy_route_as_if_all_were_healthy():
    health = checker(threshold=1)
    router = GeoRouter(health.region_urls, health, "Frankfurt", "none")
    health.record(US, False)
    health.record(EU, False)
    assert router.choose() == EU


def test_dns_ttl_caches_the_answer_until_it_expires():
    clock = FakeClock()
    health = checker(threshold=1, clock=clock)
    router = GeoRouter(health.region_urls, health, "Seattle", "none", ttl_s=60, clock=clock)
    assert router.choose() == US
    health.record(US, False)
    clock.now += 59
    assert router.choose() == US  # the resolver's cached answer, outage or not
    clock.now += 2
    assert router.choose() == EU
    router.set_client_location("Seattle")  # a new client resolves afresh
    assert router.choose() == EU


@pytest.mark.parametrize(
    "interval, threshold, ttl",
    [(0, 2, 0), (301, 2, 0), (1, 0, 0), (1, 11, 0), (1, 2.5, 0), (1, 2, -1), ("1", 2, 0), (True, 2, 0)],
)
def test_bad_routing_settings_are_rejected(interval, threshold, ttl):
    with pytest.raises(ValueError):
        check_routing_settings(interval, threshold, ttl)


def test_route53_defaults_are_accepted():
    assert check_routing_settings(30, 3, 60) == (30.0, 3, 60.0)


# -- over real HTTP --------------------------------------------------------------------------------------------


class StandInRegion:
    """A region stand-in: answers every request with what it received; /dev/_health answers ``health_status``."""

    def __init__(self, name: str):
        self.name = name
        self.health_status = 200
        self.seen: list[dict] = []
        self.stand_in = StandIn(self._answer)

    def _answer(self, request: SeenRequest):
        record = {
            "region": self.name,
            "method": request.method,
            "path": request.path,
            "body": request.body.decode(),
            "hop": request.headers.get(events.HOP_HEADER.lower()),
            "custom": request.headers.get("x-custom"),
        }
        self.seen.append(record)
        return (self.health_status if request.path.endswith("/_health") else 200), record

    @property
    def api(self) -> str:
        return self.stand_in.url + "/dev"

    def stop(self):
        self.stand_in.stop()


@pytest.fixture
def stand_ins():
    regions = {name: StandInRegion(name) for name in (US, EU)}
    yield regions
    for region in regions.values():
        region.stop()


@pytest.fixture
def global_endpoint(stand_ins):
    health = HealthChecker({n: r.api for n, r in stand_ins.items()}, interval_s=0.05, failure_threshold=2)
    router = GeoRouter(health.region_urls, health, "Seattle", "none")
    server = WebServer(global_app(router)).start()
    health.start()
    yield server
    health.stop()
    server.stop()


def test_global_endpoint_forwards_to_the_chosen_regions_stage(global_endpoint, stand_ins):
    with requests.Session() as http:
        answer = http.post(
            f"{global_endpoint.url}/some%20key?x=1", data='{"value": "v"}', headers={"X-Custom": "c"}
        )
    assert answer.status_code == 200
    assert answer.headers["X-Served-Region"] == US
    seen = answer.json()
    assert seen["path"] == "/dev/some%20key?x=1"
    assert (seen["method"], seen["body"], seen["custom"]) == ("POST", '{"value": "v"}', "c")
    assert seen["hop"] == "router"  # the region must not add its own network delay


def test_global_endpoint_answers_with_one_date_and_one_server_header(global_endpoint, stand_ins):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(global_endpoint.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", "/k")
        answer = connection.getresponse()
        answer.read()
    finally:
        connection.close()
    assert answer.status == 200
    assert len(answer.msg.get_all("Date")) == 1
    servers = answer.msg.get_all("Server")
    assert servers == ["stand-in"]  # the region's, as a client of AWS sees it


def test_global_endpoint_fails_over_when_health_checks_fail_and_comes_back(global_endpoint, stand_ins):
    import time

    def served():
        return requests.get(f"{global_endpoint.url}/k", timeout=5).headers["X-Served-Region"]

    assert served() == US
    stand_ins[US].health_status = 503
    deadline = time.monotonic() + 5
    while served() != EU and time.monotonic() < deadline:
        time.sleep(0.02)
    assert served() == EU
    stand_ins[US].health_status = 200
    deadline = time.monotonic() + 5
    while served() != US and time.monotonic() < deadline:
        time.sleep(0.02)
    assert served() == US


def test_unreachable_region_is_a_503_naming_it(stand_ins):
    health = HealthChecker(
        {US: "http://127.0.0.1:9/dev"}, interval_s=10, failure_threshold=2
    )  # port 9: refused
    router = GeoRouter(health.region_urls, health, "Seattle", "none")
    server = WebServer(global_app(router)).start()
    try:
        answer = requests.get(f"{server.url}/k", timeout=10)
    finally:
        server.stop()
    assert answer.status_code == 503
    assert US in answer.json()["message"]
    assert answer.headers["X-Served-Region"] == US

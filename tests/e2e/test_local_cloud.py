"""The local cloud end to end: real region, replicator and global processes on 127.0.0.1, driven over HTTP.

Tells the walkthrough's story (write in us-west-2, read in eu-central-1), checks the geo router (nearest region,
moving the client, failover and back), API Gateway's behaviour (CORS preflight, 403 for unknown routes), the
network model's delays, DynamoDB access with boto3 and the AWS CLI, and the control API's errors.
"""

from __future__ import annotations

import json
import time

import boto3
import pytest
import requests
from aws_cli import aws, output

from backend.local import network
from backend.local.cloud import LocalCloud
from backend.local.control import ControlError

pytestmark = pytest.mark.e2e

US, EU = "us-west-2", "eu-central-1"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    local = LocalCloud(
        regions=[US, EU],
        network="none",
        client_location="Seattle",
        endpoints_file=tmp_path_factory.mktemp("local-cloud") / "endpoints.json",
    )
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def control(cloud):
    """The control client; every test leaves the cloud as it found it (Seattle, no delays, all regions up)."""
    client = cloud.control
    yield client
    client.set_network("none")
    client.set_client_location("Seattle")
    client.set_routing(health_interval_s=1.0, failure_threshold=2, dns_ttl_s=0)
    for region in (US, EU):
        client.region_up(region)


def eventually(check, timeout_s: float = 10.0, interval_s: float = 0.05):
    """Polls ``check`` until it returns a truthy value; returns it, or fails with the last value seen."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval_s)
    pytest.fail(f"not true within {timeout_s} s; last value: {last!r}")


def test_endpoints_file_follows_the_contract(cloud):
    written = json.loads(cloud.endpoints_file.read_text())
    assert set(written) >= {"regions", "global", "dynamodb", "control"}
    assert set(written["regions"]) == {US, EU}
    for region in (US, EU):
        assert written["regions"][region].startswith("http://127.0.0.1:")
        assert written["regions"][region].endswith("/dev")  # regional URLs carry the stage, like execute-api
        assert written["dynamodb"][region].startswith("http://127.0.0.1:")
    assert written["global"].startswith("http://127.0.0.1:") and not written["global"].endswith("/dev")


def test_walkthrough_write_in_us_west_read_in_eu_central(cloud, http):
    us, eu = cloud.endpoints["regions"][US], cloud.endpoints["regions"][EU]
    written = http.post(f"{us}/testing", data='{"value": "It worked"}')
    assert written.status_code == 200
    assert written.json() | {"writtenAt": None} == {
        "key": "testing",
        "value": "It worked",
        "region": US,
        "writtenAt": None,
    }
    local = http.get(f"{us}/testing").json()
    assert (local["value"], local["writeRegion"], local["readRegion"]) == ("It worked", US, US)

    def replicated():
        answer = http.get(f"{eu}/testing")
        return answer.json() if answer.status_code == 200 else None

    remote = eventually(replicated)
    assert remote["key"] == "testing"
    assert remote["value"] == "It worked"
    assert remote["writeRegion"] == US
    assert remote["readRegion"] == EU
    assert remote["writtenAt"] == written.json()["writtenAt"]


def test_global_endpoint_answers_from_the_nearest_region_and_follows_the_client(cloud, control, http):
    us = cloud.endpoints["regions"][US]
    assert http.post(f"{us}/geo", json={"value": "v"}).status_code == 200
    eventually(lambda: http.get(f"{cloud.endpoints['regions'][EU]}/geo").status_code == 200)
    glob = cloud.endpoints["global"]

    from_seattle = http.get(f"{glob}/geo")
    assert from_seattle.status_code == 200
    assert from_seattle.headers["X-Served-Region"] == US
    assert from_seattle.json()["readRegion"] == US

    control.set_client_location("Frankfurt")
    from_frankfurt = http.get(f"{glob}/geo")
    assert from_frankfurt.headers["X-Served-Region"] == EU
    assert from_frankfurt.json()["readRegion"] == EU
    assert from_frankfurt.json()["writeRegion"] == US
    assert control.routing()["current_choice"] == EU


def test_failover_moves_to_the_next_region_within_interval_times_threshold_and_back(cloud, control, http):
    interval, threshold = 0.2, 2
    control.set_routing(health_interval_s=interval, failure_threshold=threshold, dns_ttl_s=0)
    glob = cloud.endpoints["global"]
    assert http.get(f"{glob}/_health").headers["X-Served-Region"] == US

    control.region_down(US)
    down_at = time.monotonic()
    # The region's own endpoint fails as an outage would, health included.
    assert http.get(f"{cloud.endpoints['regions'][US]}/_health").status_code == 503
    eventually(lambda: http.get(f"{glob}/_health").headers.get("X-Served-Region") == EU, timeout_s=10)
    failover_s = time.monotonic() - down_at
    # interval × threshold, plus one interval for the phase of the first check, plus slack for a 2-core machine
    # shared with other test runs (a check is an HTTP round trip that can wait for a core).
    assert failover_s <= interval * (threshold + 1) + 3.0
    assert control.status()["regions"][US]["healthy"] is False

    control.region_up(US)
    eventually(lambda: http.get(f"{glob}/_health").headers.get("X-Served-Region") == US, timeout_s=10)
    assert control.status()["regions"][US]["healthy"] is True


def test_all_regions_unhealthy_routes_as_if_all_were_healthy(cloud, control, http):
    control.set_routing(health_interval_s=0.1, failure_threshold=1)
    control.region_down(US)
    control.region_down(EU)
    eventually(lambda: not any(r["healthy"] for r in control.status()["regions"].values()))
    answer = http.get(f"{cloud.endpoints['global']}/_health")
    assert answer.headers["X-Served-Region"] == US  # the nearest, as Route 53 does when every check fails
    assert answer.status_code == 503


def test_dns_ttl_keeps_the_cached_answer_until_it_expires(cloud, control, http):
    control.set_routing(health_interval_s=0.1, failure_threshold=1, dns_ttl_s=2.0)
    glob = cloud.endpoints["global"]
    assert http.get(f"{glob}/_health").headers["X-Served-Region"] == US  # cached for 2 s from here
    control.region_down(US)
    time.sleep(0.5)  # the health checker has seen the outage by now, but the resolver's cache has not expired
    stale = http.get(f"{glob}/_health")
    assert (stale.headers["X-Served-Region"], stale.status_code) == (US, 503)
    eventually(lambda: http.get(f"{glob}/_health").headers.get("X-Served-Region") == EU, timeout_s=5)


def test_cors_preflight_is_answered_as_cors_true_does(cloud, http):
    answer = http.options(
        f"{cloud.endpoints['regions'][US]}/testing",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"},
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert set(answer.headers["Access-Control-Allow-Methods"].split(",")) == {
        "OPTIONS",
        "GET",
        "POST",
        "DELETE",
    }
    assert "Content-Type" in answer.headers["Access-Control-Allow-Headers"]
    # The functions themselves also answer the header (proxy integration), on success and on error.
    assert (
        http.get(f"{cloud.endpoints['regions'][US]}/never-written").headers["Access-Control-Allow-Origin"]
        == "*"
    )


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/a/b"),
        ("PUT", "/dev/k"),
        ("PATCH", "/dev/k"),
        ("POST", "/dev/_health"),
        ("GET", "/dev/"),
        ("GET", "/"),
    ],
)
def test_unknown_routes_are_answered_as_api_gateway_does(cloud, http, method, path):
    base = cloud.endpoints["regions"][US].removesuffix("/dev")
    answer = http.request(method, base + path)
    assert answer.status_code == 403
    assert answer.json() == {"message": "Missing Authentication Token"}


def test_wrong_stage_is_a_missing_route(cloud, http):
    base = cloud.endpoints["regions"][US].removesuffix("/dev")
    answer = http.get(f"{base}/prod/testing")
    assert (answer.status_code, answer.json()) == (403, {"message": "Missing Authentication Token"})


def test_bad_input_is_a_clear_error_not_a_traceback(cloud, http):
    us = cloud.endpoints["regions"][US]
    for body in ("not json", '{"value": 3}', "{}", "[]"):
        answer = http.post(f"{us}/bad", data=body)
        assert answer.status_code == 400, body
        assert "error" in answer.json() and "Traceback" not in answer.text
    assert http.post(f"{us}/_reserved", json={"value": "x"}).status_code in (400, 403)


def test_percent_encoded_keys_reach_the_function_decoded(cloud, http):
    us = cloud.endpoints["regions"][US]
    assert http.post(f"{us}/hello%20w%C3%B6rld", json={"value": "encoded"}).json()["key"] == "hello wörld"
    assert http.get(f"{us}/hello%20w%C3%B6rld").json()["value"] == "encoded"


def test_every_response_has_server_timing_and_a_request_id(cloud, http):
    answer = http.get(f"{cloud.endpoints['regions'][EU]}/_health")
    assert answer.headers["Server-Timing"].startswith("db;dur=")
    assert answer.headers["x-amzn-RequestId"]


def test_dynamodb_endpoint_works_with_boto3(cloud, http):
    us = cloud.endpoints["regions"][US]
    http.post(f"{us}/from-api", json={"value": "seen by boto3"})
    client = boto3.client(
        "dynamodb",
        region_name=US,
        endpoint_url=cloud.endpoints["dynamodb"][US],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    table = client.describe_table(TableName="keyvalues")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    item = client.get_item(TableName="keyvalues", Key={"key": {"S": "from-api"}})["Item"]
    assert item["value"]["S"] == "seen by boto3" and item["region"]["S"] == US
    # A write straight to the table is served by the region's API.
    client.put_item(
        TableName="keyvalues",
        Item={
            "key": {"S": "from-boto3"},
            "value": {"S": "direct"},
            "region": {"S": US},
            "writtenAt": {"N": "1"},
        },
    )
    assert http.get(f"{us}/from-boto3").json()["value"] == "direct"


def test_dynamodb_endpoint_works_with_the_aws_cli(cloud, http, tmp_path):
    http.post(f"{cloud.endpoints['regions'][EU]}/cli-key", json={"value": "from the API"})
    result = aws(
        ["dynamodb", "get-item", "--table-name", "keyvalues", "--key", '{"key": {"S": "cli-key"}}'],
        EU,
        cloud.endpoints["dynamodb"][EU],
        tmp_path,
    )
    assert output(result)["Item"]["value"]["S"] == "from the API"


def test_network_realistic_delays_each_region_by_the_rtt_from_the_client(cloud, control, http):
    control.set_network("realistic")
    control.set_client_location("Frankfurt")
    timings = {}
    for region in (US, EU):
        url = f"{cloud.endpoints['regions'][region]}/_health"
        http.get(url)  # warm the connection
        samples = []
        for _ in range(3):
            started = time.perf_counter()
            assert http.get(url).status_code == 200
            samples.append((time.perf_counter() - started) * 1000)
        timings[region] = min(samples)
    frankfurt = network.parse_location("Frankfurt")
    us_model = network.modelled_rtt_ms(frankfurt, network.REGIONS[US])
    model = network.LatencyModel("realistic")
    # Lower bounds only (sleeps can run late on a busy machine, never early): at least the least sample can be.
    assert timings[US] >= model.minimum_ms(frankfurt, network.REGIONS[US]) - 1
    assert timings[EU] >= model.minimum_ms(frankfurt, network.REGIONS[EU]) - 1
    assert timings[US] > timings[EU]
    started = time.perf_counter()
    through_global = http.get(f"{cloud.endpoints['global']}/_health")
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert through_global.headers["X-Served-Region"] == EU
    assert elapsed_ms < us_model  # one RTT to Frankfurt, not Frankfurt plus Oregon


def test_control_api_rejects_bad_requests_with_a_clear_message(cloud, control):
    with pytest.raises(ControlError, match="Unknown location") as error:
        control.set_client_location("Atlantis")
    assert error.value.status == 400
    with pytest.raises(ControlError, match="unknown region"):
        control.region_down("mars-north-1")
    with pytest.raises(ControlError, match="network mode"):
        control.set_network("fast")
    with pytest.raises(ControlError, match="failure_threshold"):
        control.set_routing(failure_threshold=50)
    with pytest.raises(ControlError, match="ms"):
        control.set_replication_delay(-5)
    raw = requests.put(cloud.endpoints["control"] + "/network", data="{not json")
    assert raw.status_code == 400 and "JSON" in raw.json()["error"]
    assert requests.get(cloud.endpoints["control"] + "/nowhere").status_code == 404


def test_status_reports_regions_router_and_replication(cloud, control):
    status = control.status()
    assert set(status["regions"]) == {US, EU}
    assert status["endpoints"]["global"] == cloud.endpoints["global"]
    assert status["router"]["health_interval_s"] == 1.0 and status["router"]["failure_threshold"] == 2
    assert status["client_location"] == "Seattle"
    assert status["regions"][US]["fiber_floor_rtt_ms"] < status["regions"][US]["modelled_rtt_ms"]
    assert {(p["source"], p["destination"]) for p in status["replication"]["pairs"]} == {(US, EU), (EU, US)}


def test_replication_pause_and_resume_through_the_control_api(cloud, control, http):
    us, eu = cloud.endpoints["regions"][US], cloud.endpoints["regions"][EU]
    control.pause_replication(EU)
    try:
        assert http.post(f"{us}/isolated", json={"value": "queued"}).status_code == 200
        time.sleep(0.5)
        assert http.get(f"{eu}/isolated").status_code == 404
    finally:
        control.resume_replication(EU)
    eventually(lambda: http.get(f"{eu}/isolated").status_code == 200)


def test_reset_empties_every_region(cloud, control, http):
    us, eu = cloud.endpoints["regions"][US], cloud.endpoints["regions"][EU]
    http.post(f"{us}/to-forget", json={"value": "x"})
    eventually(lambda: http.get(f"{eu}/to-forget").status_code == 200)
    control.reset()
    assert http.get(f"{us}/to-forget").status_code == 404
    assert http.get(f"{eu}/to-forget").status_code == 404
    # Writes after the reset replicate again.
    http.post(f"{eu}/after-reset", json={"value": "y"})
    eventually(lambda: http.get(f"{us}/after-reset").status_code == 200)


def test_every_endpoint_refuses_a_body_over_the_one_limit(cloud):
    """The kit's one body reader and limit (API Gateway's 10 MB) on each endpoint of the running cloud: a region's
    stage and admin API, the global endpoint, the control API, the replicator's admin API. The body is declared,
    not sent: the answer must come before it, and the connection must close."""
    import socket
    from urllib.parse import urlsplit

    from backend.local.limits import MAX_BODY_BYTES

    endpoints = cloud.endpoints
    targets = {
        "stage": ("POST", endpoints["regions"][US] + "/k"),
        "region admin": ("POST", endpoints["regions"][US].rsplit("/", 1)[0] + "/__admin/config"),
        "global": ("POST", endpoints["global"] + "/k"),
        "control": ("PUT", endpoints["control"] + "/network"),
        "replicator admin": ("POST", endpoints["replicator"] + "/delay"),
    }
    for name, (method, url) in targets.items():
        parts = urlsplit(url)
        head = (
            f"{method} {parts.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n{{}}"
        )
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
            connection.sendall(head.encode())
            answer = b""
            while chunk := connection.recv(65536):  # the server closes after answering
                answer += chunk
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.split()[1] == b"413", (name, answer[:300])
        body = json.loads(rest.partition(b"\r\n\r\n")[2])
        assert (body.get("message") or body.get("error")), (name, body)

"""HTTP ↔ API Gateway REST proxy (v1) conversion: routing like API Gateway, events like the recorded fixtures."""

import base64
import json
from pathlib import Path

import pytest

from backend.local.gateway import events

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "apigw_rest_post_testkey.json").read_text())


@pytest.mark.parametrize(
    "method, path, kind, key",
    [
        ("GET", "/dev/testkey", "key", "testkey"),
        ("POST", "/dev/testkey", "key", "testkey"),
        ("DELETE", "/dev/testkey", "key", "testkey"),
        ("GET", "/dev/_health", "health", "_health"),
        ("GET", "/dev/hello%20w%C3%B6rld", "key", "hello wörld"),
        ("GET", "/dev/a+b", "key", "a+b"),  # a plus in a path is a plus, not a space
        ("GET", "/dev/k?x=1", "key", "k"),
        ("OPTIONS", "/dev/k", "preflight", "k"),
        ("OPTIONS", "/dev/_health", "preflight", "_health"),
    ],
)
def test_routes_that_exist(method, path, kind, key):
    matched = events.route(method, path)
    assert (matched.kind, matched.key) == (kind, key)


@pytest.mark.parametrize(
    "method, path",
    [
        ("PUT", "/dev/k"),
        ("PATCH", "/dev/k"),
        ("HEAD", "/dev/k"),
        ("POST", "/dev/_health"),
        ("DELETE", "/dev/_health"),
        ("GET", "/prod/k"),
        ("GET", "/k"),
        ("GET", "/dev"),
        ("GET", "/dev/"),
        ("GET", "/dev/a/b"),
        ("GET", "/"),
        ("GET", "/dev/%FF"),  # not UTF-8 once decoded
    ],
)
def test_routes_that_do_not_exist_are_missing(method, path):
    assert events.route(method, path).kind == "missing"


def test_event_has_the_shape_of_a_recorded_api_gateway_event():
    headers = [("Host", "127.0.0.1:8080"), ("User-Agent", "curl/8.5.0"), ("Content-Type", "application/json")]
    matched = events.route("POST", "/dev/testkey")
    event = events.request_to_event(
        "POST",
        "/dev/testkey",
        headers,
        b'{"value": "Just testing"}',
        matched,
        source_ip="127.0.0.1",
        region="us-west-2",
        now=1517331731.0,
        request_id="req-1",
    )
    assert set(event) == set(FIXTURE)
    assert set(event["requestContext"]) == set(FIXTURE["requestContext"])
    assert set(event["requestContext"]["identity"]) == set(FIXTURE["requestContext"]["identity"])
    assert event["resource"] == "/{key}" and event["path"] == "/testkey"
    assert event["pathParameters"] == {"key": "testkey"}
    assert event["httpMethod"] == "POST" and event["body"] == '{"value": "Just testing"}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert (
        context["stage"] == "dev"
        and context["path"] == "/dev/testkey"
        and context["resourcePath"] == "/{key}"
    )
    assert context["requestTime"] == FIXTURE["requestContext"]["requestTime"]
    assert context["requestTimeEpoch"] == 1517331731000
    assert context["requestId"] == "req-1" and context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "curl/8.5.0"
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None


def test_repeated_headers_and_query_parameters():
    matched = events.route("GET", "/dev/k?a=1&a=2&b=")
    event = events.request_to_event(
        "GET", "/dev/k?a=1&a=2&b=", [("X-Test", "one"), ("X-Test", "two")], b"", matched
    )
    assert event["headers"]["X-Test"] == "two"
    assert event["multiValueHeaders"]["X-Test"] == ["one", "two"]
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["body"] is None


def test_health_event_has_no_path_parameters():
    matched = events.route("GET", "/dev/_health")
    event = events.request_to_event("GET", "/dev/_health", [], b"", matched)
    assert event["resource"] == "/_health" and event["pathParameters"] is None and event["path"] == "/_health"


def test_binary_body_is_base64_encoded():
    matched = events.route("POST", "/dev/k")
    event = events.request_to_event("POST", "/dev/k", [], b"\xff\xfe\x00", matched)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe\x00"


def test_proxy_result_becomes_the_http_response():
    response = events.response_from_result(
        {
            "statusCode": 201,
            "headers": {"X-A": "1"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": "é",
        },
        "req-2",
    )
    assert response.status == 201
    assert ("X-A", "1") in response.headers
    assert [v for n, v in response.headers if n == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("x-amzn-RequestId", "req-2") in response.headers
    assert response.body == "é".encode()


def test_base64_result_body_is_decoded():
    response = events.response_from_result(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}, "r"
    )
    assert response.body == b"\x00\x01"


@pytest.mark.parametrize(
    "result",
    [
        None,
        "text",
        {},
        {"statusCode": "200"},
        {"statusCode": True},
        {"statusCode": 700},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
    ],
)
def test_malformed_proxy_result_is_a_502_as_on_api_gateway(result):
    response = events.response_from_result(result, "r")
    assert response.status == 502
    assert json.loads(response.body) == {"message": "Internal server error"}


def test_preflight_answers_the_cors_headers_of_the_resource():
    response = events.preflight(events.route("OPTIONS", "/dev/k"))
    headers = dict(response.headers)
    assert response.status == 200 and response.body == b""
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Allow-Methods"] == "OPTIONS,GET,POST,DELETE"
    assert "X-Amz-Date" in headers["Access-Control-Allow-Headers"]
    health = dict(events.preflight(events.route("OPTIONS", "/dev/_health")).headers)
    assert health["Access-Control-Allow-Methods"] == "OPTIONS,GET"


def test_missing_route_answer_is_api_gateways():
    response = events.missing_authentication_token("r")
    assert response.status == 403
    assert json.loads(response.body) == {"message": "Missing Authentication Token"}

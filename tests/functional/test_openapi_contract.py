"""docs/openapi.yaml stays true: it is a valid document, and every handler response conforms to it."""

import json

import pytest
import yaml
from apigw import health_event, proxy_event
from dynamodb_refusals import CUT_OFF, WRITE_CONFLICT, answer_at_the_wire
from openapi_contract import OPENAPI, assert_conforms, document
from openapi_spec_validator import validate

from backend import limits
from backend.handlers import _runtime, delete_key, get_key, health, set_key


def test_the_document_is_valid_openapi():
    validate(yaml.safe_load(OPENAPI.read_text()))


SCENARIOS = [
    ("POST", "exists", '{"value": "v"}', 200),
    ("GET", "exists", None, 200),
    ("GET", "missing", None, 404),
    ("DELETE", "exists", None, 200),
    ("DELETE", "missing", None, 200),
    ("POST", "k", "not json", 400),
    ("POST", "k", '{"value": 1}', 400),
    ("POST", "k", None, 400),
    ("GET", "_reserved", None, 400),
    ("DELETE", "x" * (limits.MAX_KEY_BYTES + 1), None, 400),
    ("POST", "big", json.dumps({"value": "x" * limits.MAX_ITEM_BYTES}), 413),
]
QUERY_SCENARIOS = [
    ({"consistent": "true"}, "exists", 200),
    ({"consistent": "false"}, "exists", 200),
    ({"consistent": "true"}, "missing", 404),
    ({"consistent": "yes"}, "exists", 400),
]
HANDLERS = {"GET": get_key, "POST": set_key, "DELETE": delete_key}


@pytest.mark.parametrize("method, key, body, status", SCENARIOS)
def test_handler_responses_conform(region, method, key, body, status):
    set_key.main(proxy_event("POST", "exists", '{"value": "seed"}'), None)
    response = HANDLERS[method].main(proxy_event(method, key, body), None)
    assert response["statusCode"] == status
    assert_conforms("/{key}", method, status, response["headers"], response["body"])


def test_health_conforms(region):
    response = health.main(health_event(), None)
    assert_conforms("/_health", "GET", 200, response["headers"], response["body"])


def test_the_checker_rejects_an_undocumented_field(region):
    response = set_key.main(proxy_event("POST", "k", '{"value": "v"}'), None)
    body = json.loads(response["body"])
    body["extra"] = True
    with pytest.raises(Exception, match="extra"):
        assert_conforms("/{key}", "POST", 200, response["headers"], json.dumps(body))


@pytest.mark.parametrize("query, key, status", QUERY_SCENARIOS)
def test_reads_with_the_consistent_parameter_conform(region, query, key, status):
    set_key.main(proxy_event("POST", "exists", '{"value": "seed"}'), None)
    event = proxy_event("GET", key)
    event["queryStringParameters"] = query
    response = get_key.main(event, None)
    assert response["statusCode"] == status
    assert_conforms("/{key}", "GET", status, response["headers"], response["body"], query)


def test_a_value_the_api_refuses_is_one_the_document_does_not_allow():
    with pytest.raises(AssertionError, match="consistent"):
        assert_conforms("/{key}", "GET", 404, {}, "{}", {"consistent": "yes"})


def test_an_undocumented_query_parameter_is_caught(region):
    response = get_key.main(proxy_event("GET", "missing"), None)
    with pytest.raises(AssertionError, match="strong"):
        assert_conforms("/{key}", "GET", 404, response["headers"], response["body"], {"strong": "1"})


@pytest.mark.parametrize(
    "method, query, refusal, status",
    [
        ("POST", None, WRITE_CONFLICT, 409),
        ("DELETE", None, WRITE_CONFLICT, 409),
        ("POST", None, CUT_OFF, 503),
        ("DELETE", None, CUT_OFF, 503),
        ("GET", {"consistent": "true"}, CUT_OFF, 503),
    ],
)
def test_mrsc_refusals_conform_with_retry_after(region, method, query, refusal, status):
    operation = {"POST": "PutItem", "DELETE": "DeleteItem", "GET": "GetItem"}[method]
    answer_at_the_wire(_runtime.service()._store._client, operation, refusal)
    event = proxy_event(method, "k", '{"value": "v"}' if method == "POST" else None)
    event["queryStringParameters"] = query
    response = HANDLERS[method].main(event, None)
    assert response["statusCode"] == status
    assert_conforms("/{key}", method, status, response["headers"], response["body"], query)
    assert document()["paths"]["/{key}"][method.lower()]["responses"][str(status)]["$ref"].endswith(
        ("WriteConflict", "RetryLater")
    )

"""docs/openapi.yaml stays true: it is a valid document, and every handler response conforms to it."""

import json

import pytest
import yaml
from apigw import health_event, proxy_event
from openapi_contract import OPENAPI, assert_conforms
from openapi_spec_validator import validate

from backend import limits
from backend.handlers import delete_key, get_key, health, set_key


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

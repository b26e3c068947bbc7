"""The API on a multi-Region strongly consistent (MRSC) table: ``?consistent=true`` reads, a write another region is
making at the same moment (409), a region cut off from the others (503). Handlers run against moto in-process; what
DynamoDB answers on MRSC (moto does not model it) is produced on the real boto3 client, at the wire: a ``before-send``
hook returns the HTTP response DynamoDB would send, which botocore parses and runs through its retry logic as usual."""

import json

import pytest
from apigw import proxy_event

from backend.handlers import _runtime, get_key, set_key
from backend.local.gateway import events


def call(handler, event):
    response = handler.main(event, None)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def get_event(key: str, query: dict | None) -> dict:
    event = proxy_event("GET", key)
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {name: [value] for name, value in query.items()} if query else None
    return event


@pytest.fixture
def sent_get_items(region):
    """The GetItem requests the handler's own client sends, as botocore serialized them (JSON bodies)."""
    sent = []
    client = _runtime.service()._store._client
    client.meta.events.register(
        "before-call.dynamodb.GetItem", lambda params, **kwargs: sent.append(json.loads(params["body"]))
    )
    return sent


@pytest.mark.parametrize(
    "query, consistent", [({"consistent": "true"}, True), ({"consistent": "false"}, False), (None, False)]
)
def test_consistent_true_asks_dynamodb_for_a_strongly_consistent_read(sent_get_items, query, consistent):
    set_key.main(proxy_event("POST", "k", '{"value": "v"}'), None)
    status, body, _ = call(get_key, get_event("k", query))
    assert (status, body["value"]) == (200, "v")
    assert len(sent_get_items) == 1
    assert sent_get_items[0]["ConsistentRead"] is consistent
    assert sent_get_items[0]["Key"] == {"key": {"S": "k"}}


@pytest.mark.parametrize("value", ["TRUE", "True", "1", "yes", "", "strong"])
def test_any_other_consistent_value_is_400_and_dynamodb_is_not_called(sent_get_items, value):
    status, body, _ = call(get_key, get_event("k", {"consistent": value}))
    assert status == 400
    assert "consistent must be true or false" in body["error"]
    assert sent_get_items == []


def test_a_bad_key_is_reported_before_a_bad_consistent(sent_get_items):
    status, body, _ = call(get_key, get_event("_reserved", {"consistent": "maybe"}))
    assert status == 400 and "reserved" in body["error"]


def test_other_query_parameters_are_ignored(sent_get_items):
    status, _, _ = call(get_key, get_event("missing", {"utm_source": "x"}))
    assert status == 404 and sent_get_items[0]["ConsistentRead"] is False


@pytest.mark.parametrize("target, consistent", [("/dev/k?consistent=true", True), ("/dev/k", False)])
def test_the_local_gateway_passes_the_query_string_to_the_handler(sent_get_items, target, consistent):
    matched = events.route("GET", target)
    event = events.request_to_event("GET", target, [("Host", "localhost")], b"", matched, region="us-west-2")
    status, _, _ = call(get_key, event)
    assert status == 404
    assert sent_get_items[0]["ConsistentRead"] is consistent

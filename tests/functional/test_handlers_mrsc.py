"""The API on a multi-Region strongly consistent (MRSC) table: ``?consistent=true`` reads, a write another region is
making at the same moment (409), a region cut off from the others (503). Handlers run against moto in-process; what
DynamoDB answers on MRSC (moto does not model it) is produced at the wire of the handlers' real boto3 client, see
``tests/dynamodb_refusals.py``."""

import json

import boto3
import pytest
from apigw import proxy_event
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from dynamodb_refusals import CUT_OFF, WRITE_CONFLICT, answer_at_the_wire

from backend import limits
from backend.handlers import _runtime, delete_key, get_key, set_key
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


# -- DynamoDB's MRSC refusals, at the wire -------------------------------------------------------------------------

def handler_client():
    return _runtime.service()._store._client


@pytest.mark.parametrize("status", [400, 409])  # AWS documents 400; botocore's legacy retry rules expect 409
@pytest.mark.parametrize(
    "handler, method, operation, verb",
    [(set_key, "POST", "PutItem", "write"), (delete_key, "DELETE", "DeleteItem", "delete")],
)
def test_a_write_another_region_is_making_is_409_with_retry_after_and_not_retried(
    region, handler, method, operation, verb, status
):
    sent = answer_at_the_wire(handler_client(), operation, (status, *WRITE_CONFLICT[1:]))
    body = '{"value": "mine"}' if method == "POST" else None
    code, answer, headers = call(handler, proxy_event(method, "contended", body))
    assert code == 409
    assert headers["Retry-After"] == str(limits.WRITE_CONFLICT_RETRY_AFTER_S)
    assert "being written in another region at this same moment" in answer["error"]
    assert f"did NOT {verb} your key" in answer["error"] and "Retry" in answer["error"]
    assert len(sent) == 1  # answered at once: neither our code nor botocore repeated the write


@pytest.mark.parametrize(
    "handler, method, operation, query",
    [
        (set_key, "POST", "PutItem", None),
        (delete_key, "DELETE", "DeleteItem", None),
        (get_key, "GET", "GetItem", {"consistent": "true"}),
    ],
)
def test_a_region_cut_off_from_the_others_is_503_with_retry_after_at_once(region, handler, method, operation, query):
    sent = answer_at_the_wire(handler_client(), operation, CUT_OFF)
    event = get_event("k", query) if method == "GET" else proxy_event(method, "k", '{"value": "v"}')
    code, answer, headers = call(handler, event)
    assert code == 503
    assert headers["Retry-After"] == str(limits.UNAVAILABLE_RETRY_AFTER_S)
    assert "another region" in answer["error"]
    assert "Internal server error" not in answer["error"]  # DynamoDB's detail goes to the log only
    assert len(sent) == 1  # not botocore's default nine retries over ~25 s, past the function's 6 s timeout


def test_eventually_consistent_reads_keep_working_where_strongly_consistent_ones_fail(region):
    set_key.main(proxy_event("POST", "k", '{"value": "v"}'), None)
    answer_at_the_wire(handler_client(), "GetItem", CUT_OFF, when=lambda request: request.get("ConsistentRead"))
    assert call(get_key, get_event("k", {"consistent": "true"}))[0] == 503
    status, body, _ = call(get_key, get_event("k", None))
    assert (status, body["value"]) == (200, "v")


def test_dynamodb_out_of_reach_is_503_with_retry_after(region):
    def unreachable(request, **kwargs):
        raise EndpointConnectionError(endpoint_url=request.url)

    handler_client().meta.events.register("before-send.dynamodb.PutItem", unreachable)
    status, answer, headers = call(set_key, proxy_event("POST", "k", '{"value": "v"}'))
    assert status == 503 and headers["Retry-After"] == str(limits.UNAVAILABLE_RETRY_AFTER_S)
    assert "could not write your key" in answer["error"]


def test_the_wire_harness_does_exercise_botocores_retries():
    """Control for the ``len(sent) == 1`` checks above: the same harness on a client in botocore's standard mode sees
    the write conflict sent again, so a single send means our client really did not retry."""
    client = boto3.client(
        "dynamodb",
        region_name="us-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 2}),
    )
    sent = answer_at_the_wire(client, "PutItem", WRITE_CONFLICT)
    with pytest.raises(client.exceptions.ReplicatedWriteConflictException):
        client.put_item(TableName="t", Item={"key": {"S": "k"}})
    assert len(sent) == 2


def test_the_handlers_client_makes_no_sdk_retries(region):
    assert handler_client().meta.config.retries == {"mode": "standard", "total_max_attempts": 1}

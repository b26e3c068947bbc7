"""The Lambda handlers, driven by real API Gateway REST proxy events, against moto's DynamoDB in-process."""

import base64
import json

import boto3
import pytest
from apigw import health_event, proxy_event
from botocore.stub import Stubber

from backend import limits
from backend.handlers import _runtime, delete_key, get_key, health, set_key
from backend.items import MISSING_VALUE


def call(handler, event):
    response = handler.main(event, None)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def post(key, body):
    return call(set_key, proxy_event("POST", key, body))


def test_walkthrough_transcript(region):
    # $ curl -X POST ${BASE_URL}testkey -d '{"value": "Just testing"}'
    status, body, _ = post("testkey", '{"value": "Just testing"}')
    assert status == 200
    assert set(body) == {"key", "value", "region", "writtenAt"}
    assert (body["key"], body["value"], body["region"]) == ("testkey", "Just testing", "us-west-2")
    # $ curl -X GET ${BASE_URL}testkey
    status, got, _ = call(get_key, proxy_event("GET", "testkey"))
    assert status == 200
    assert got == {
        "key": "testkey",
        "value": "Just testing",
        "writeRegion": "us-west-2",
        "readRegion": "us-west-2",
        "writtenAt": body["writtenAt"],
    }


def test_written_at_comes_from_the_injected_clock(region):
    _runtime.set_clock(lambda: 1_700_000_000.123)
    try:
        status, body, _ = post("clocked", '{"value": "v"}')
    finally:
        _runtime.set_clock(__import__("time").time)
    assert status == 200 and body["writtenAt"] == 1_700_000_000_123


def test_unknown_key_is_404_not_the_walkthroughs_400(region):
    status, body, _ = call(get_key, proxy_event("GET", "nobody-wrote-this"))
    assert status == 404
    assert "nobody-wrote-this" in body["error"]


def test_overwrite_keeps_the_latest_value(region):
    post("k", '{"value": "first"}')
    post("k", '{"value": "second"}')
    assert call(get_key, proxy_event("GET", "k"))[1]["value"] == "second"


def test_delete_then_read_then_delete_again(region):
    post("gone", '{"value": "soon"}')
    status, body, _ = call(delete_key, proxy_event("DELETE", "gone"))
    assert (status, body) == (200, {"key": "gone", "region": "us-west-2", "deleted": True})
    assert call(get_key, proxy_event("GET", "gone"))[0] == 404
    status, body, _ = call(delete_key, proxy_event("DELETE", "gone"))
    assert (status, body["deleted"]) == (200, False)


@pytest.mark.parametrize("key", ["ключ", "clé avec espaces", "emoji-🌍", "a/b?c=d&e#f", "x" * limits.MAX_KEY_BYTES])
def test_any_utf8_key_round_trips(region, key):
    assert post(key, '{"value": "v"}')[0] == 200
    status, body, _ = call(get_key, proxy_event("GET", key))
    assert (status, body["key"]) == (200, key)


def test_health(region):
    status, body, _ = call(health, health_event())
    assert (status, body) == (200, {"region": "us-west-2", "status": "ok"})


def test_health_is_503_when_the_table_is_missing(region):
    boto3.client("dynamodb", region_name="us-west-2").delete_table(TableName="keyvalues")
    status, body, _ = call(health, health_event())
    assert status == 503 and body["error"]


@pytest.mark.parametrize(
    "body, message",
    [
        (None, MISSING_VALUE),
        ("", MISSING_VALUE),
        ("{}", MISSING_VALUE),
        ('{"value": ""}', MISSING_VALUE),
        ('{"value": null}', MISSING_VALUE),
        ("not json", "not valid JSON"),
        ('{"value": "unterminated', "not valid JSON"),
        ('["value"]', "must be an object"),
        ('"just a string"', "must be an object"),
        ('{"value": 42}', "must be a string, not a number"),
        ('{"value": true}', "must be a string, not a boolean"),
        ('{"value": ["a"]}', "must be a string, not an array"),
        ('{"value": {"a": 1}}', "must be a string, not an object"),
    ],
)
def test_bad_bodies_are_400_saying_what_is_wrong(region, body, message):
    status, answer, _ = post("k", body)
    assert status == 400
    assert message in answer["error"]
    assert call(get_key, proxy_event("GET", "k"))[0] == 404  # nothing was written


def test_missing_value_text_is_the_walkthroughs(region):
    assert post("k", '{"nothing": "here"}')[1] == {"error": "Missing a value for 'value' in JSON body."}


@pytest.mark.parametrize(
    "handler, method",
    [(get_key, "GET"), (set_key, "POST"), (delete_key, "DELETE")],
)
@pytest.mark.parametrize(
    "key, message",
    [
        (None, "Missing key"),
        ("", "Missing key"),
        ("_health", "reserved"),
        ("_anything", "reserved"),
        ("x" * (limits.MAX_KEY_BYTES + 1), "limit is 2048"),
        ("é" * (limits.MAX_KEY_BYTES // 2 + 1), "limit is 2048"),  # 2 bytes a character
        ("\ud800", "not valid UTF-8"),
    ],
)
def test_bad_keys_are_400(region, handler, method, key, message):
    body = '{"value": "v"}' if method == "POST" else None
    status, answer, _ = call(handler, proxy_event(method, key, body))
    assert status == 400
    assert message in answer["error"]


def test_item_over_400kb_is_413_and_nothing_is_written(region):
    status, answer, _ = post("big", json.dumps({"value": "x" * limits.MAX_ITEM_BYTES}))
    assert status == 413 and "400 KB" in answer["error"]
    assert call(get_key, proxy_event("GET", "big"))[0] == 404


def test_item_just_under_the_limit_is_stored(region):
    room = limits.MAX_ITEM_BYTES - 200
    status, _, _ = post("fits", json.dumps({"value": "x" * room}))
    assert status == 200
    assert len(call(get_key, proxy_event("GET", "fits"))[1]["value"]) == room


def test_base64_bodies_are_decoded(region):
    event = proxy_event("POST", "b64", base64.b64encode(b'{"value": "caf\xc3\xa9"}').decode())
    event["isBase64Encoded"] = True
    assert call(set_key, event)[:2][0] == 200
    assert call(get_key, proxy_event("GET", "b64"))[1]["value"] == "café"


def test_base64_body_that_is_not_utf8_is_400(region):
    event = proxy_event("POST", "b64", base64.b64encode(b"\xff\xfe\x00").decode())
    event["isBase64Encoded"] = True
    status, answer, _ = call(set_key, event)
    assert status == 400 and "UTF-8" in answer["error"]


def test_every_response_has_cors_and_server_timing(region):
    responses = [
        post("k", '{"value": "v"}'),
        post("k", "nope"),
        call(get_key, proxy_event("GET", "k")),
        call(get_key, proxy_event("GET", "missing")),
        call(delete_key, proxy_event("DELETE", "k")),
        call(health, health_event()),
    ]
    for _, _, headers in responses:
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["Content-Type"] == "application/json"
        timing = dict(part.strip().split(";dur=") for part in headers["Server-Timing"].split(","))
        assert set(timing) == {"db", "app"}
        assert 0 <= float(timing["db"]) <= float(timing["app"])


def test_cors_origin_is_configurable(region, monkeypatch):
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://demo.example")
    assert post("k", '{"value": "v"}')[2]["Access-Control-Allow-Origin"] == "https://demo.example"


def _stubbed_service(region, method, code):
    """The real service over a real boto3 client whose next call answers ``code`` (moto cannot throttle)."""
    service = _runtime.service()
    stubber = Stubber(service._store._client)
    stubber.add_client_error(method, service_error_code=code, http_status_code=400)
    stubber.activate()
    return stubber


@pytest.mark.parametrize("code", sorted(limits.THROTTLING_ERROR_CODES))
def test_throttling_is_503_with_retry_after(region, code):
    stubber = _stubbed_service(region, "put_item", code)
    status, answer, headers = post("k", '{"value": "v"}')
    stubber.deactivate()
    assert status == 503
    assert headers["Retry-After"] == str(limits.THROTTLED_RETRY_AFTER_S)
    assert "throttling" in answer["error"]


def test_unexpected_dynamodb_error_is_a_generic_500_without_detail(region, caplog):
    # (DynamoDB's own InternalServerError is documented retryable: a 503 with Retry-After, see test_handlers_mrsc.py)
    stubber = _stubbed_service(region, "get_item", "ResourceNotFoundException")
    status, answer, _ = call(get_key, proxy_event("GET", "k"))
    stubber.deactivate()
    assert status == 500
    assert answer == {"error": "Sorry, an error occurred while trying to retrieve your key."}
    assert "ResourceNotFoundException" in caplog.text  # the detail is in the log, not the response


def test_a_bug_is_a_generic_500_and_the_trace_goes_to_the_log(region, caplog, monkeypatch):
    monkeypatch.setattr(_runtime.service(), "get_key", lambda key, consistent=False: 1 / 0)
    status, answer, _ = call(get_key, proxy_event("GET", "k"))
    assert (status, answer) == (500, {"error": "Sorry, an internal error occurred."})
    assert "ZeroDivisionError" in caplog.text


def test_misconfigured_function_says_so(region, monkeypatch):
    monkeypatch.delenv("KEY_TABLE")
    _runtime.reset()
    status, answer, _ = call(get_key, proxy_event("GET", "k"))
    assert status == 500 and "KEY_TABLE" in answer["error"]


def test_a_non_dict_event_is_a_clean_400(region):
    response = get_key.main(None, None)
    assert response["statusCode"] == 400


def put_directly(item: dict) -> None:
    """A write by another DynamoDB client (the AWS CLI, boto3), bypassing the API."""
    boto3.client("dynamodb", region_name="us-west-2").put_item(TableName="keyvalues", Item=item)


def test_an_item_another_client_wrote_without_app_attributes_reads_with_nulls_not_fake_data(region):
    put_directly({"key": {"S": "from-cli"}, "value": {"S": "written by the CLI"}})
    status, got, _ = call(get_key, proxy_event("GET", "from-cli"))
    assert status == 200
    assert got == {
        "key": "from-cli",
        "value": "written by the CLI",
        "writeRegion": None,
        "readRegion": "us-west-2",
        "writtenAt": None,
    }


@pytest.mark.parametrize(
    "value, found",
    [(None, "no 'value' attribute"), ({"N": "42"}, "'value' is a number"), ({"M": {}}, "'value' is a map")],
)
def test_an_item_without_a_string_value_is_422_saying_what_it_holds(region, value, found):
    item = {"key": {"S": "odd"}, "region": {"S": "us-west-2"}, "writtenAt": {"N": "5"}}
    if value is not None:
        item["value"] = value
    put_directly(item)
    status, got, headers = call(get_key, proxy_event("GET", "odd"))
    assert status == 422
    assert found in got["error"] and "another DynamoDB client" in got["error"]
    assert headers["Content-Type"] == "application/json"
    # the API never overwrote or removed it
    assert boto3.client("dynamodb", region_name="us-west-2").get_item(
        TableName="keyvalues", Key={"key": {"S": "odd"}}
    )["Item"] == item


def test_a_writtenat_that_is_not_a_whole_number_reads_as_null(region):
    put_directly({"key": {"S": "odd-time"}, "value": {"S": "v"}, "writtenAt": {"N": "1.5"}})
    status, got, _ = call(get_key, proxy_event("GET", "odd-time"))
    assert status == 200 and got["writtenAt"] is None and got["writeRegion"] is None

"""Builds API Gateway REST proxy (v1) events from the recorded fixtures in tests/fixtures/."""

import copy
import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
_TEMPLATES = {
    "POST": json.loads((FIXTURES / "apigw_rest_post_testkey.json").read_text()),
    "GET": json.loads((FIXTURES / "apigw_rest_get_testkey.json").read_text()),
}


def proxy_event(method: str, key: str | None, body: str | None = None, *, resource: str = "/{key}") -> dict:
    """A REST proxy event as API Gateway sends it for ``method /{key}`` (path parameters already decoded)."""
    event = copy.deepcopy(_TEMPLATES["POST" if method in ("POST", "DELETE") else "GET"])
    event["httpMethod"] = method
    event["requestContext"]["httpMethod"] = method
    event["resource"] = resource
    event["requestContext"]["resourcePath"] = resource
    event["path"] = "/" + (key or "")
    event["requestContext"]["path"] = "/dev/" + (key or "")
    event["pathParameters"] = None if key is None else {"key": key}
    event["body"] = body
    if method != "POST":
        event["headers"].pop("Content-Type", None)
        event["multiValueHeaders"].pop("Content-Type", None)
    return event


def health_event() -> dict:
    event = proxy_event("GET", None, resource="/_health")
    event["path"] = "/_health"
    event["requestContext"]["path"] = "/dev/_health"
    return event

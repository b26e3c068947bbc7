"""API Gateway REST proxy events in, proxy responses out. Typed errors become statuses here, and only here."""

import base64
import binascii
import json
import logging
from collections.abc import Callable

from backend.errors import ApiError, BadRequest, InternalError
from backend.timing import start_request

log = logging.getLogger(__name__)


class Request:
    """The parts of a REST proxy (v1) event the handlers use."""

    def __init__(self, event: dict):
        self.event = event if isinstance(event, dict) else {}

    @property
    def key(self):
        # API Gateway gives pathParameters already URL-decoded; a missing or null map means no key.
        return (self.event.get("pathParameters") or {}).get("key")

    def query(self, name: str) -> str | None:
        """A query string parameter as API Gateway passes it (decoded; the last value of a repeated one), or None."""
        return (self.event.get("queryStringParameters") or {}).get(name)

    @property
    def body(self) -> str | None:
        body = self.event.get("body")
        if body is None or not self.event.get("isBase64Encoded"):
            return body
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise BadRequest("The body is not valid UTF-8 text.") from None


def handle(event: dict, operation: Callable[[Request], dict], cors_origin: str) -> dict:
    """Runs ``operation`` on the event and formats its answer (or its error) as a proxy response."""
    timings = start_request()
    try:
        status, body, headers = 200, operation(Request(event)), {}
    except ApiError as error:
        status, body, headers = error.status, {"error": error.message}, error.headers
    except Exception:  # the client gets a generic 500; the trace goes to the log only
        log.exception("Unhandled error in %s %s", event.get("httpMethod"), event.get("path"))
        error = InternalError("Sorry, an internal error occurred.")
        status, body, headers = error.status, {"error": error.message}, {}
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "application/json",
            "Access-Control-Allow-Origin": cors_origin,
            "Access-Control-Expose-Headers": "Server-Timing",
            "Server-Timing": timings.header(),
            **headers,
        },
        "body": json.dumps(body, ensure_ascii=False),
    }

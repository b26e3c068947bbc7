"""The item model and the validation of what clients send."""

import json
from dataclasses import dataclass

from backend import limits
from backend.errors import BadRequest, PayloadTooLarge

MISSING_VALUE = "Missing a value for 'value' in JSON body."  # the walkthrough's exact text
RESERVED_PREFIX = "_"  # keys like "_health" are routes, not data


@dataclass(frozen=True)
class Item:
    key: str
    value: str
    region: str  # the region that wrote it
    written_at: int  # epoch milliseconds, the writing region's clock

    def to_dynamodb(self) -> dict:
        return {
            "key": {"S": self.key},
            "value": {"S": self.value},
            "region": {"S": self.region},
            "writtenAt": {"N": str(self.written_at)},
        }

    @classmethod
    def from_dynamodb(cls, attributes: dict) -> "Item":
        # Items written by the walkthrough's code have no writtenAt: treat them as written at the epoch.
        return cls(
            key=attributes["key"]["S"],
            value=attributes.get("value", {}).get("S", ""),
            region=attributes.get("region", {}).get("S", ""),
            written_at=int(attributes.get("writtenAt", {}).get("N", "0")),
        )

    def size_bytes(self) -> int:
        """DynamoDB's size of the item: UTF-8 bytes of names and strings, plus numbers."""
        strings = (("key", self.key), ("value", self.value), ("region", self.region))
        size = sum(len(name) + len(text.encode("utf-8")) for name, text in strings)
        return size + len("writtenAt") + limits.MAX_NUMBER_BYTES


def validate_key(key) -> str:
    if not isinstance(key, str) or key == "":
        raise BadRequest("Missing key: the key is the URL path, e.g. POST /mykey.")
    if key.startswith(RESERVED_PREFIX):
        raise BadRequest(f"Keys beginning with '{RESERVED_PREFIX}' are reserved.")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadRequest("The key is not valid UTF-8.") from None
    if size > limits.MAX_KEY_BYTES:
        raise BadRequest(f"The key is {size} bytes of UTF-8; the limit is {limits.MAX_KEY_BYTES}.")
    return key


def parse_value(body: str | None) -> str:
    """The ``value`` of a JSON body ``{"value": "..."}``, or a BadRequest saying what is wrong."""
    if body is None or body.strip() == "":
        raise BadRequest(MISSING_VALUE)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack ("[[[[…")
        raise BadRequest('The body is not valid JSON: send {"value": "<string>"}.') from None
    if not isinstance(document, dict):
        raise BadRequest('The JSON body must be an object: send {"value": "<string>"}.')
    value = document.get("value")
    if value is None or value == "":
        raise BadRequest(MISSING_VALUE)
    if not isinstance(value, str):
        raise BadRequest(f"'value' must be a string, not {_json_type(value)}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("'value' is not valid UTF-8.") from None
    return value


def check_item_size(item: Item) -> None:
    size = item.size_bytes()
    if size > limits.MAX_ITEM_BYTES:
        raise PayloadTooLarge(
            f"The item would be {size} bytes; DynamoDB's limit is {limits.MAX_ITEM_BYTES} bytes (400 KB)."
        )


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

"""The item model and the validation of what clients send."""

import json
from dataclasses import dataclass

from backend import limits
from backend.errors import BadRequest, PayloadTooLarge, UnrepresentableItem

MISSING_VALUE = "Missing a value for 'value' in JSON body."  # the walkthrough's exact text
RESERVED_PREFIX = "_"  # keys like "_health" are routes, not data


# DynamoDB's attribute type descriptors, named for messages about items other clients wrote
_TYPE_NAMES = {
    "N": "a number",
    "B": "binary",
    "BOOL": "a boolean",
    "NULL": "null",
    "M": "a map",
    "L": "a list",
    "SS": "a string set",
    "NS": "a number set",
    "BS": "a binary set",
}


@dataclass(frozen=True)
class Item:
    key: str
    value: str
    region: str | None  # the region that wrote it; None when another client wrote the item without it
    written_at: int | None  # epoch milliseconds on the writer's clock; None when the writer did not set it

    def to_dynamodb(self) -> dict:
        return {
            "key": {"S": self.key},
            "value": {"S": self.value},
            "region": {"S": self.region},
            "writtenAt": {"N": str(self.written_at)},
        }

    @classmethod
    def from_dynamodb(cls, attributes: dict) -> "Item":
        """The item as this API answers it. Items any DynamoDB client wrote (the AWS CLI, boto3, the walkthrough's code)
        may lack ``region`` or ``writtenAt``: those read as None, never as data that looks real (an empty region, the
        epoch). A ``value`` that is missing or not a string has no answer here: UnrepresentableItem (422)."""
        key = attributes["key"]["S"]
        value = attributes.get("value")
        if not isinstance(value, dict) or "S" not in value:
            found = "no 'value' attribute" if value is None else f"'value' is {_type_name(value)}"
            raise UnrepresentableItem(
                f"The item '{key}' was written by another DynamoDB client and has {found}; this API answers string"
                " values only (read it with a DynamoDB client)."
            )
        region = attributes.get("region", {}).get("S")
        written_at = attributes.get("writtenAt", {}).get("N")
        return cls(key=key, value=value["S"], region=region, written_at=_whole_number(written_at))

    def size_bytes(self) -> int:
        """DynamoDB's size of the item: UTF-8 bytes of names and strings, plus numbers."""
        strings = (("key", self.key), ("value", self.value), ("region", self.region or ""))
        size = sum(len(name) + len(text.encode("utf-8")) for name, text in strings)
        return size + len("writtenAt") + limits.MAX_NUMBER_BYTES


def _type_name(attribute: dict) -> str:
    kind = next(iter(attribute), "?") if isinstance(attribute, dict) else "?"
    return _TYPE_NAMES.get(kind, f"of type {kind}")


def _whole_number(text: str | None) -> int | None:
    """``writtenAt`` as an int; None when absent or not a whole number (another client's attribute of that name)."""
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


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


def parse_consistent(text: str | None) -> bool:
    """``?consistent=true`` asks for a strongly consistent read; ``false`` or no parameter, an eventually consistent
    one (DynamoDB's default). Anything else is refused rather than guessed at."""
    if text is None or text == "false":
        return False
    if text == "true":
        return True
    raise BadRequest(f"consistent must be true or false, not '{text}'.")


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

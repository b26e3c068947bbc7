"""The pure parts of the core: item model, sizes, validation, Server-Timing."""

import pytest

from backend import limits
from backend.errors import BadRequest, PayloadTooLarge
from backend.items import Item, check_item_size, parse_value, validate_key
from backend.timing import Timings


def test_item_round_trips_through_dynamodb_attributes():
    item = Item("k", "v", "eu-central-1", 1_700_000_000_000)
    assert Item.from_dynamodb(item.to_dynamodb()) == item


def test_walkthrough_items_without_written_at_read_as_unknown_not_the_epoch():
    # the walkthrough's code wrote no writtenAt: "1970" would look like data, None says the writer did not set it
    legacy = {"key": {"S": "k"}, "value": {"S": "v"}, "region": {"S": "us-west-2"}}
    assert Item.from_dynamodb(legacy).written_at is None
    assert Item.from_dynamodb(legacy).region == "us-west-2"


def test_item_size_counts_utf8_bytes_of_names_and_values():
    small = Item("k", "v", "r", 1).size_bytes()
    assert Item("k", "é", "r", 1).size_bytes() == small + 1  # é is 2 bytes
    assert small == len("key") + 1 + len("value") + 1 + len("region") + 1 + len("writtenAt") + limits.MAX_NUMBER_BYTES


def test_check_item_size_boundary():
    overhead = Item("k", "", "us-west-2", 1).size_bytes()
    check_item_size(Item("k", "x" * (limits.MAX_ITEM_BYTES - overhead), "us-west-2", 1))
    with pytest.raises(PayloadTooLarge):
        check_item_size(Item("k", "x" * (limits.MAX_ITEM_BYTES - overhead + 1), "us-west-2", 1))


def test_key_byte_limit_is_utf8_bytes_not_characters():
    assert validate_key("é" * 1024) == "é" * 1024
    with pytest.raises(BadRequest):
        validate_key("é" * 1024 + "x")


def test_parse_value_accepts_extra_fields():
    assert parse_value('{"value": "v", "note": 1}') == "v"


@pytest.mark.parametrize("value", [1.5, -3, 0, False, [], {}])
def test_parse_value_rejects_non_strings(value):
    import json

    with pytest.raises(BadRequest, match="must be a string"):
        parse_value(json.dumps({"value": value}))


def test_server_timing_header_uses_the_injected_clock():
    ticks = iter([10.0, 10.0125])
    timings = Timings(clock=lambda: next(ticks))
    timings.db_ms = 3.14159
    assert timings.header() == "db;dur=3.1, app;dur=12.5"

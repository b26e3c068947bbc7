"""The pure core of the local global tables: hidden versions (the region side) and record decisions (the replicator)."""

from datetime import UTC, datetime

import pytest

from backend.local.dynamodb import versions
from backend.local.dynamodb.versions import TableVersions, as_text, from_text
from backend.local.replication.decisions import (
    Action,
    Change,
    creation_ms,
    decide,
    destinations,
    key_id,
)

WEST, CENTRAL, TOKYO = "us-west-2", "eu-central-1", "ap-northeast-1"
REGIONS = sorted((WEST, CENTRAL, TOKYO))


def record(event, key="k", new=None, version=(1000, WEST), replica=False, created_ms=5000, hidden=True):
    body = {
        "Keys": {"key": {"S": key}},
        "SequenceNumber": "1",
        "ApproximateCreationDateTime": datetime.fromtimestamp(created_ms / 1000, tz=UTC),
    }
    if new is not None:
        body["NewImage"] = new
    answer = {"eventName": event, "dynamodb": body}
    if hidden:
        answer["mrkv"] = {"version": as_text(version), "replica": replica}
    return answer


# ---------------------------------------------------------------- versions: order and text


def test_versions_order_by_time_then_region():
    assert (1000, WEST) < (1001, CENTRAL)
    assert (1000, CENTRAL) < (1000, WEST)  # equal microseconds: the region's name breaks the tie
    assert from_text(as_text((1_764_000_000_123_456, TOKYO))) == (1_764_000_000_123_456, TOKYO)


@pytest.mark.parametrize("text", ["", "12", ":us-west-2", "x:us-west-2", "-5:us-west-2"])
def test_a_malformed_version_is_refused_clearly(text):
    with pytest.raises(ValueError, match="not a version"):
        from_text(text)


# ---------------------------------------------------------------- versions: a region's bookkeeping


def test_a_local_write_takes_the_clock_or_one_microsecond_above_what_it_replaces():
    held = TableVersions()
    assert held.next_local("k", 5000, WEST) == (5000, WEST)
    held.stored("k", (9000, CENTRAL))  # a replicated write from a region whose clock runs ahead
    assert held.next_local("k", 5000, WEST) == (9001, WEST)  # never loses to the item it overwrote
    assert held.next_local("other", 5000, WEST) == (5000, WEST)  # other keys keep the clock


def test_a_local_write_after_a_delete_is_newer_than_the_tombstone():
    held = TableVersions()
    held.deleted("k", (7000, TOKYO), now_us=7000)
    assert held.next_local("k", 5000, WEST) == (7001, WEST)


def test_replicated_writes_are_taken_only_when_newer_than_the_item_or_its_tombstone():
    held = TableVersions()
    assert held.accepts("k", (1000, WEST))
    held.stored("k", (2000, WEST))
    assert not held.accepts("k", (1000, CENTRAL))
    assert not held.accepts("k", (2000, WEST))  # the same version again: applying twice is harmless
    assert held.accepts("k", (2000, "zz-later-1"))
    held.deleted("k", (3000, CENTRAL), now_us=3000)
    assert "k" not in held.live
    assert not held.accepts("k", (2500, TOKYO))  # an older put in flight cannot resurrect the key
    assert held.accepts("k", (3001, TOKYO))


def test_tombstones_are_bounded_by_age_and_by_count(monkeypatch):
    monkeypatch.setattr(versions, "TOMBSTONE_CAP", 3)
    monkeypatch.setattr(versions, "TOMBSTONE_TTL_S", 10.0)
    held = TableVersions()
    for n in range(5):
        held.deleted(f"k{n}", (n, WEST), now_us=n)
    assert list(held.tombstones) == ["k2", "k3", "k4"]  # the oldest dropped first
    held.deleted("late", (20_000_000, WEST), now_us=20_000_000)
    assert list(held.tombstones) == ["late"]  # older than 10 s: gone


# ---------------------------------------------------------------- decisions


def test_a_local_put_is_replicated_with_its_hidden_version():
    new = {"key": {"S": "k"}, "anything": {"N": "1"}}  # no app attributes needed
    decision = decide(record("MODIFY", new=new, version=(4242, CENTRAL)))
    assert decision.action is Action.REPLICATE
    assert decision.change == Change({"key": {"S": "k"}}, (4242, CENTRAL), new, 5000)
    assert destinations(decision, CENTRAL, REGIONS) == [TOKYO, WEST]


def test_a_local_delete_is_replicated_to_every_other_region():
    decision = decide(record("REMOVE", version=(4243, WEST)))
    assert decision.action is Action.REPLICATE and decision.change.is_delete
    assert decision.change.version == (4243, WEST)
    assert destinations(decision, WEST, REGIONS) == [TOKYO, CENTRAL]


def test_replicated_writes_are_never_replicated_again():
    decision = decide(record("INSERT", new={"key": {"S": "k"}}, replica=True))
    assert decision.action is Action.SKIP and "replicated" in decision.reason
    assert destinations(decision, WEST, REGIONS) == []


def test_a_record_without_its_hidden_version_is_skipped_and_says_why():
    decision = decide(record("INSERT", new={"key": {"S": "k"}}, hidden=False))
    assert decision.action is Action.SKIP and "hidden version" in decision.reason


def test_key_ids_name_simple_and_composite_keys():
    assert key_id({"key": {"S": "a"}}) == "a"
    composite = key_id({"pk": {"S": "a"}, "sk": {"N": "1"}})
    assert composite == key_id({"sk": {"N": "1"}, "pk": {"S": "a"}})
    assert composite != key_id({"pk": {"S": "a"}, "sk": {"N": "2"}})


def test_creation_time_from_boto3_datetimes_and_raw_seconds():
    assert creation_ms(record("INSERT", created_ms=1234)) == 1234
    raw = {"dynamodb": {"ApproximateCreationDateTime": 1.5}}
    assert creation_ms(raw) == 1500

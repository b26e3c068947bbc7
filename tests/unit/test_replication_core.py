"""The pure conflict-resolution core: version order, record decisions, tombstones, conditional-write rule."""

from datetime import UTC, datetime

import pytest

from backend.local.replication.decisions import (
    DELETE,
    PUT,
    REPLICA_DELETE_MARK,
    Action,
    Change,
    Version,
    accepts,
    creation_ms,
    decide,
    item_version,
    replica_mark,
)
from backend.local.replication.tombstones import Tombstones

WEST, CENTRAL = "us-west-2", "eu-central-1"


def item(key="k", value="v", region=WEST, ts=1000, **extra):
    attributes = {
        "key": {"S": key},
        "value": {"S": value},
        "region": {"S": region},
        "writtenAt": {"N": str(ts)},
    }
    attributes.update({name: {"S": text} for name, text in extra.items()})
    return attributes


def record(event, old=None, new=None, created_ms=5000, seq=1):
    body = {
        "Keys": {"key": (new or old)["key"]},
        "SequenceNumber": str(seq),
        "ApproximateCreationDateTime": datetime.fromtimestamp(created_ms / 1000, tz=UTC),
    }
    if old is not None:
        body["OldImage"] = old
    if new is not None:
        body["NewImage"] = new
    return {"eventName": event, "awsRegion": "us-east-1", "dynamodb": body}


class TestVersionOrder:
    def test_later_timestamp_wins(self):
        assert Version(2, "a") > Version(1, "z")

    def test_equal_timestamps_break_ties_on_region_name(self):
        assert Version(5, "us-west-2") > Version(5, "eu-central-1")

    def test_a_delete_beats_a_put_of_the_same_millisecond_and_region(self):
        assert Version(5, WEST, DELETE) > Version(5, WEST, PUT, "zzz")

    def test_two_puts_of_one_region_in_one_millisecond_break_on_value(self):
        assert Version(5, WEST, PUT, "b") > Version(5, WEST, PUT, "a")

    def test_text_round_trip_keeps_separators_in_values(self):
        version = Version(7, WEST, PUT, "a|b|c")
        assert Version.from_text(version.as_text()) == version

    def test_items_without_writtenAt_are_the_oldest(self):
        assert item_version({"key": {"S": "k"}, "value": {"S": "v"}}) < Version(1, "")

    def test_creation_time_from_datetime_and_from_raw_seconds(self):
        assert creation_ms(record("INSERT", new=item(), created_ms=1234567)) == 1234567
        assert creation_ms({"dynamodb": {"ApproximateCreationDateTime": 1234.567}}) == 1234567


class TestDecide:
    def test_a_local_insert_is_replicated(self):
        decision = decide(record("INSERT", new=item()), WEST)
        assert decision.action is Action.REPLICATE
        assert decision.change.version == Version(1000, WEST, PUT, "v")
        assert decision.change.item == item()

    def test_a_replicated_write_is_not_echoed(self):
        assert decide(record("INSERT", new=item(region=CENTRAL)), WEST).action is Action.SKIP
        assert (
            decide(record("MODIFY", old=item(), new=item(region=CENTRAL, ts=2000)), WEST).action
            is Action.SKIP
        )

    def test_a_put_that_changed_nothing_is_skipped(self):
        assert decide(record("MODIFY", old=item(), new=item()), WEST).action is Action.SKIP

    def test_a_newer_local_modify_is_replicated(self):
        decision = decide(record("MODIFY", old=item(region=CENTRAL, ts=900), new=item(ts=1000)), WEST)
        assert decision.action is Action.REPLICATE

    def test_a_local_write_older_than_what_it_overwrote_repairs_the_region(self):
        newer = item(value="new", region=CENTRAL, ts=2000)
        decision = decide(record("MODIFY", old=newer, new=item(value="old", ts=1000)), WEST)
        assert decision.action is Action.REPAIR
        assert decision.change.item == newer and decision.change.version == item_version(newer)

    def test_a_local_write_older_than_the_tombstone_repairs_with_the_delete(self):
        tombstone = Version(3000, CENTRAL, DELETE)
        decision = decide(record("INSERT", new=item(ts=1000)), WEST, tombstone)
        assert decision.action is Action.REPAIR and decision.change.is_delete
        assert decision.change.version == tombstone

    def test_a_local_write_newer_than_the_tombstone_is_replicated(self):
        decision = decide(record("INSERT", new=item(ts=4000)), WEST, Version(3000, CENTRAL, DELETE))
        assert decision.action is Action.REPLICATE

    def test_a_local_delete_is_replicated_with_the_record_time(self):
        decision = decide(record("REMOVE", old=item(ts=1000), created_ms=5000), WEST)
        assert decision.action is Action.REPLICATE and decision.change.is_delete
        assert decision.change.version == Version(5000, WEST, DELETE)

    def test_a_local_delete_of_an_item_from_the_future_loses(self):
        future = item(region=CENTRAL, ts=9000)
        decision = decide(record("REMOVE", old=future, created_ms=5000), WEST)
        assert decision.action is Action.REPAIR and decision.change.item == future

    def test_the_replicators_own_delete_and_its_mark_are_skipped(self):
        marked = item(**{REPLICA_DELETE_MARK: "5000|eu-central-1|1|"})
        assert decide(record("MODIFY", old=item(), new=marked), WEST).action is Action.SKIP
        assert decide(record("REMOVE", old=marked), WEST).action is Action.SKIP

    def test_a_client_delete_of_a_marked_item_is_a_local_delete(self):
        # The client deleted the item between the replicator's mark and its delete: that delete is newer.
        marked = item(ts=1000, **{REPLICA_DELETE_MARK: "4000|eu-central-1|1|#abc"})
        decision = decide(record("REMOVE", old=marked, created_ms=5000), WEST, marked_remove_is_local=True)
        assert decision.action is Action.REPLICATE
        assert decision.change.version == Version(5000, WEST, DELETE)

    def test_a_client_delete_of_a_marked_item_from_the_future_still_loses(self):
        marked = item(ts=9000, **{REPLICA_DELETE_MARK: "x"})
        decision = decide(record("REMOVE", old=marked, created_ms=5000), WEST, marked_remove_is_local=True)
        assert decision.action is Action.REPAIR and decision.change.version == Version(9000, WEST, PUT, "v")
        assert REPLICA_DELETE_MARK not in decision.change.item  # put back as it was before the mark

    def test_replica_mark_is_read_from_remove_records_only(self):
        marked = item(**{REPLICA_DELETE_MARK: "m1"})
        assert replica_mark(record("REMOVE", old=marked)) == "m1"
        assert replica_mark(record("REMOVE", old=item())) is None
        assert replica_mark(record("MODIFY", old=item(), new=marked)) is None

    def test_a_local_write_over_a_marked_item_is_judged_against_the_tombstone_only(self):
        marked = item(ts=9000, **{REPLICA_DELETE_MARK: "x"})
        decision = decide(record("MODIFY", old=marked, new=item(ts=1000, value="n")), WEST)
        assert decision.action is Action.REPLICATE

    @pytest.mark.parametrize("event", ["INSERT", "MODIFY", "REMOVE", "WHATEVER"])
    def test_records_without_a_string_key_are_skipped(self, event):
        bad = {"eventName": event, "dynamodb": {"Keys": {"key": {"N": "1"}}}}
        assert decide(bad, WEST).action is Action.SKIP


class TestAccepts:
    put = Change("k", Version(1000, WEST, PUT, "v"), item(), 0)
    delete = Change("k", Version(1000, WEST, DELETE), None, 0)

    def test_a_put_lands_on_a_missing_or_older_item(self):
        assert accepts(None, None, self.put)
        assert accepts(Version(999, "zz"), None, self.put)

    def test_a_put_never_lands_on_an_equal_or_newer_item(self):
        assert not accepts(Version(1000, WEST, PUT, "v"), None, self.put)  # applying twice changes nothing
        assert not accepts(Version(1001, "a"), None, self.put)

    def test_a_put_older_than_the_tombstone_does_not_resurrect(self):
        assert not accepts(None, Version(1001, "a", DELETE), self.put)
        assert accepts(None, Version(999, "zz", DELETE), self.put)

    def test_a_delete_needs_an_existing_older_item(self):
        assert not accepts(None, None, self.delete)
        assert accepts(Version(1000, WEST, PUT, "zzz"), None, self.delete)
        assert not accepts(Version(1000, "z"), None, self.delete)


class TestTombstones:
    def test_keeps_the_newest_delete_per_key(self):
        stones = Tombstones()
        stones.record("k", Version(5, WEST, DELETE))
        stones.record("k", Version(3, WEST, DELETE))
        assert stones.get("k") == Version(5, WEST, DELETE)

    def test_prune_drops_old_ones_and_survives_json(self):
        stones = Tombstones()
        stones.record("old", Version(5, WEST, DELETE))
        stones.record("new", Version(50, WEST, DELETE))
        assert stones.prune(older_than_ms=10) == 1
        again = Tombstones.from_json(stones.to_json())
        assert again.get("old") is None and again.get("new") == Version(50, WEST, DELETE)
        assert len(again) == 1


def test_changes_survive_json():
    change = Change("k", Version(1, WEST, PUT, "v"), item(), 42)
    assert Change.from_json(change.to_json()) == change

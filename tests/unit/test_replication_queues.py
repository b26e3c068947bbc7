"""The per-pair queues and the isolation of a destination, without any server or thread."""

import threading

import pytest

from backend.local.replication.decisions import Change
from backend.local.replication.isolation import Isolation
from backend.local.replication.pairs import APPLYING, SCAN_WINDOW, WAITING, Entry, Pairs

WEST, CENTRAL, TOKYO = "us-west-2", "eu-central-1", "ap-northeast-1"


def change(key, ts=1000, region=WEST):
    item = {"key": {"S": key}, "value": {"S": "v"}, "region": {"S": region}, "writtenAt": {"N": str(ts)}}
    return Change({"key": {"S": key}}, (ts, region), item, ts)


def make_pairs():
    return Pairs([WEST, CENTRAL, TOKYO], threading.Event())


def queue(pairs, src, dst, *entries):
    with pairs.cond:
        for due, key in entries:
            pairs.enqueue_locked(src, dst, Entry(due, None, None, change(key, region=src), src))


def take(pairs, dst):
    with pairs.cond:
        found, entry = pairs.next_entry_locked(dst)
        if entry is not None:
            pairs.start_locked(dst, entry)
    return found, entry


def test_the_earliest_due_entry_of_all_sources_goes_first():
    pairs = make_pairs()
    queue(pairs, WEST, CENTRAL, (300, "w1"), (400, "w2"))
    queue(pairs, TOKYO, CENTRAL, (100, "t1"))
    assert [take(pairs, CENTRAL)[1].change.key for _ in range(3)] == ["t1", "w1", "w2"]
    assert take(pairs, CENTRAL) == (None, None)


def test_a_key_being_applied_holds_back_its_later_entries_but_not_other_keys():
    pairs = make_pairs()
    queue(pairs, WEST, CENTRAL, (100, "k"), (200, "k"), (300, "other"))
    found, first = take(pairs, CENTRAL)
    assert first.change.key == "k" and first.state == APPLYING
    assert take(pairs, CENTRAL)[1].change.key == "other"  # the second "k" waits for the first
    assert take(pairs, CENTRAL) == (None, None)
    pairs.finish(CENTRAL, found, first)
    assert take(pairs, CENTRAL)[1].due_ms == 200


def test_a_key_another_source_is_applying_waits_too():
    pairs = make_pairs()
    queue(pairs, WEST, CENTRAL, (100, "k"))
    queue(pairs, TOKYO, CENTRAL, (50, "k"))
    assert take(pairs, CENTRAL)[1].source == TOKYO
    assert take(pairs, CENTRAL) == (None, None)


def test_a_failed_apply_waits_again_and_keeps_its_place():
    pairs = make_pairs()
    queue(pairs, WEST, CENTRAL, (100, "a"), (200, "b"))
    _, entry = take(pairs, CENTRAL)
    pairs.retry(CENTRAL, entry)
    assert entry.state == WAITING and pairs.applying_keys[CENTRAL] == set()
    assert take(pairs, CENTRAL)[1] is entry


def test_appliers_look_only_a_window_deep_into_a_queue():
    pairs = make_pairs()
    queue(pairs, WEST, CENTRAL, *[(n, "busy") for n in range(SCAN_WINDOW)], (10_000, "free"))
    take(pairs, CENTRAL)
    assert take(pairs, CENTRAL) == (None, None)  # "free" is beyond the window


def test_the_backlog_counts_what_is_not_done():
    pairs = make_pairs()
    queue(pairs, WEST, CENTRAL, (100, "a"), (200, "b"))
    found, entry = take(pairs, CENTRAL)
    assert pairs.backlog(WEST, CENTRAL) == 2
    pairs.finish(CENTRAL, found, entry)
    assert pairs.backlog(WEST, CENTRAL) == 1 and pairs.backlog(WEST, TOKYO) == 0


def test_a_reset_empties_the_queues_and_discards_older_records():
    pairs = make_pairs()
    queue(pairs, WEST, CENTRAL, (100, "a"))
    pairs.reset(now_ms=5000)
    assert pairs.backlog(WEST, CENTRAL) == 0
    with pairs.cond:
        assert pairs.discarded_locked(WEST, 4999) and not pairs.discarded_locked(WEST, 5000)


def test_a_new_stream_forgets_the_positions_of_the_old_one():
    pairs = make_pairs()
    with pairs.cond:
        assert pairs.stream_seen_locked(WEST, "arn:1") is False
        pairs.floor[(WEST, CENTRAL)] = 7
        pairs.advance_locked(WEST, 10, "a")
        pairs.enqueue_locked(WEST, CENTRAL, Entry(0, 10, 7, change("a"), WEST))
        assert pairs.stream_seen_locked(WEST, "arn:1") is False
        assert pairs.stream_seen_locked(WEST, "arn:2") is True
        assert pairs.read_upto[WEST] is None and (WEST, CENTRAL) not in pairs.floor
        [entry] = pairs.queues[(WEST, CENTRAL)]
        assert (entry.seq, entry.prev_seq) == (None, None)


def test_after_a_restart_the_reader_resumes_from_the_smallest_pair_checkpoint():
    pairs = make_pairs()
    with pairs.cond:
        pairs.floor.update({(WEST, WEST): 30, (WEST, CENTRAL): 12, (WEST, TOKYO): 20})
        assert pairs.resume_point_locked(WEST) == 12
        pairs.floor[(WEST, TOKYO)] = None
        assert pairs.resume_point_locked(WEST) is None


def test_isolation_pauses_and_resumes_known_regions_and_wakes_the_appliers():
    woken = []
    isolation = Isolation([WEST, CENTRAL], on_resume=lambda: woken.append(1))
    isolation.pause(CENTRAL)
    isolation.pause(WEST)
    assert isolation.paused() == [CENTRAL, WEST] and isolation.is_paused(CENTRAL)
    isolation.resume(CENTRAL)
    assert isolation.paused() == [WEST] and not isolation.is_paused(CENTRAL) and woken == [1]
    with pytest.raises(ValueError, match="unknown region 'mars-1'"):
        isolation.pause("mars-1")
    isolation.load([CENTRAL, "mars-1"])  # a saved state: regions no longer configured are dropped
    assert isolation.paused() == [CENTRAL]

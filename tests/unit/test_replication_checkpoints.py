"""Per-pair checkpoints without any server: done-up-to, resume points, and the state file's round trip."""

import json
import threading

from replicator_config import CENTRAL, WEST, offline_config

from backend.local.replication.checkpoints import STATE_FILE, StateFile, done_upto, resume_point, resume_seq
from backend.local.replication.decisions import Change
from backend.local.replication.pairs import DONE, Entry, Pairs
from backend.local.replication.replicator import Replicator


def change(key="k", ts=1000):
    item = {"key": {"S": key}, "value": {"S": "v"}, "region": {"S": WEST}, "writtenAt": {"N": str(ts)}}
    return Change({"key": {"S": key}}, (ts, WEST), item, ts)


def test_done_upto_is_the_queue_head_else_what_was_read_never_below_the_floor():
    assert done_upto(None, True, None, None) is None  # nothing read, nothing loaded
    assert done_upto(None, True, 12, None) == 12  # an empty queue has done everything read
    assert done_upto(9, False, 12, None) == 9  # the first unfinished entry was read after 9
    assert done_upto(9, False, 12, 11) == 11  # the pair had done up to 11 before a restart
    assert done_upto(None, False, 12, 5) == 5  # an entry of a recreated stream: only the floor is known


def test_the_resume_point_is_the_smallest_checkpoint_or_the_start_if_any_pair_has_none():
    assert resume_point([12, 7, 30]) == 7
    assert resume_point([12, None]) is None
    assert resume_seq({"checkpoints": {WEST: "12", CENTRAL: "7"}}) == 7
    assert resume_seq({"checkpoints": {WEST: "12", CENTRAL: None}}) is None


def test_pairs_done_upto_follows_in_order_completion():
    pairs = Pairs([WEST, CENTRAL], threading.Event())
    with pairs.cond:
        for seq, key in [(10, "a"), (11, "b")]:
            new, previous = pairs.advance_locked(WEST, seq, f"e{seq}")
            assert new
            pairs.enqueue_locked(WEST, CENTRAL, Entry(0, seq, previous, change(key), WEST))
        assert pairs.done_upto_locked(WEST, CENTRAL) is None  # 10 waits, nothing before it was read
        assert pairs.done_upto_locked(WEST, WEST) == 11  # nothing queued for the pair: all read is done
    first, second = pairs.queues[(WEST, CENTRAL)]
    pairs.finish(CENTRAL, pairs.queues[(WEST, CENTRAL)], second)  # done out of order: 10 still waits
    with pairs.cond:
        assert pairs.done_upto_locked(WEST, CENTRAL) is None and second.state == DONE
    pairs.finish(CENTRAL, pairs.queues[(WEST, CENTRAL)], first)
    with pairs.cond:
        assert pairs.done_upto_locked(WEST, CENTRAL) == 11 and not pairs.queues[(WEST, CENTRAL)]
        assert pairs.resume_point_locked(WEST) == 11


def test_the_state_file_is_written_atomically_and_remembers_what_it_made_durable(tmp_path):
    state_file = StateFile(tmp_path / "state")
    assert state_file.load() is None
    state = {"sources": {WEST: {"stream": "arn:w", "checkpoints": {WEST: "5", CENTRAL: "3"}}}}
    state_file.save(lambda: state)
    assert state_file.load() == state
    assert [path.name for path in (tmp_path / "state").iterdir()] == [STATE_FILE]  # no tmp file left
    assert state_file.saved_checkpoints() == {WEST: ("arn:w", 3)}


def test_an_unreadable_state_file_is_ignored(tmp_path):
    (tmp_path / STATE_FILE).write_text("{half")
    assert StateFile(tmp_path).load() is None


def test_a_replicator_state_round_trips_through_the_file(tmp_path):
    config = offline_config(tmp_path)
    first = Replicator(config)
    with first.pairs.cond:
        first.pairs.streams[WEST] = "arn:west"
        first.pairs.advance_locked(WEST, 10, "a")
        first.pairs.enqueue_locked(WEST, CENTRAL, Entry(0, 10, None, change("a"), WEST))
        first.pairs.advance_locked(WEST, 11, "b")
    first.pause(CENTRAL)  # saves
    first.backfill.request(WEST)
    first.set_delay(250)
    first.save_state()
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert saved["sources"][WEST]["checkpoints"] == {CENTRAL: None, WEST: "11"}

    second = Replicator(config)
    assert second.isolation.paused() == [CENTRAL]
    assert second.backfill.pending() == [WEST]
    assert second.delays.override_ms == 250 and second.delays.network == "none"
    assert second.pairs.floor[(WEST, CENTRAL)] is None and second.pairs.floor[(WEST, WEST)] == 11
    assert second.pairs.floor[(CENTRAL, WEST)] is None  # a source never read: no checkpoint
    assert second.pairs.stream(WEST) == "arn:west"
    with second.pairs.cond:
        assert second.pairs.resume_point_locked(WEST) is None  # eu-central-1 had done nothing: from the start
        assert second.pairs.resume_point_locked(CENTRAL) is None

"""An applier takes due entries in batches for one door call: distinct keys, in queue order, never one not yet due."""

from replicator_config import CENTRAL, WEST, offline_config

from backend.local.replication.applier import Applier
from backend.local.replication.decisions import Change
from backend.local.replication.pairs import APPLYING, Entry
from backend.local.replication.replicator import Replicator


def make(tmp_path, batch=3, now_s=10.0):
    config = {**offline_config(tmp_path), "apply_batch": batch}
    replicator = Replicator(config, clock=lambda: now_s)
    return replicator, Applier(CENTRAL, replicator.applier_parts)


def queue(replicator, *entries):
    with replicator.pairs.cond:
        for n, (key, due_ms) in enumerate(entries, start=1):
            replicator.pairs.advance_locked(WEST, n, f"e{n}")
            change = Change({"key": {"S": key}}, (n, WEST), {"key": {"S": key}}, due_ms)
            replicator.pairs.enqueue_locked(WEST, CENTRAL, Entry(due_ms, n, n - 1, change, WEST))


def test_a_batch_takes_due_entries_of_distinct_keys_in_order(tmp_path):
    replicator, applier = make(tmp_path, batch=3)
    queue(replicator, ("a", 100), ("b", 200), ("a", 300), ("c", 400), ("d", 500))
    with replicator.pairs.cond:
        batch, _ = applier._take_due_locked()
    # the second "a" waits for the first to be done; "c", another key, may pass it
    assert [entry.change.key for _, entry in batch] == ["a", "b", "c"]
    assert all(entry.state == APPLYING for _, entry in batch)


def test_a_batch_stops_at_its_size(tmp_path):
    replicator, applier = make(tmp_path, batch=2)
    queue(replicator, ("a", 100), ("b", 200), ("c", 300))
    with replicator.pairs.cond:
        batch, wait_s = applier._take_due_locked()
    assert [entry.change.key for _, entry in batch] == ["a", "b"] and wait_s == 0.0


def test_a_batch_never_takes_an_entry_not_yet_due(tmp_path):
    replicator, applier = make(tmp_path, batch=10, now_s=0.25)  # 250 ms
    queue(replicator, ("x", 100), ("y", 300))
    with replicator.pairs.cond:
        batch, wait_s = applier._take_due_locked()
    assert [entry.change.key for _, entry in batch] == ["x"]
    with replicator.pairs.cond:
        batch, wait_s = applier._take_due_locked()
    assert batch == [] and abs(wait_s - 0.05) < 1e-9  # "y" is due in 50 ms

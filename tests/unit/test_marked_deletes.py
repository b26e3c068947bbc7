"""Telling the replicator's own deletes of marked items from a client's delete in between."""

import threading
import time

from backend.local.replication.marked_deletes import KEEP_S, MarkedDeletes, new_mark


def test_marks_are_unique_per_attempt_and_keep_the_version():
    a, b = new_mark("5000|us-west-2|1|"), new_mark("5000|us-west-2|1|")
    assert a != b and a.startswith("5000|us-west-2|1|#")


def test_a_delete_that_succeeded_is_ours():
    marks = MarkedDeletes()
    marks.begin("eu", "m")
    marks.finish("eu", "m", our_delete_failed=False)
    assert not marks.removed_by_someone_else("eu", "m")


def test_a_delete_that_was_refused_means_someone_else_removed_it_once():
    marks = MarkedDeletes()
    marks.begin("eu", "m")
    marks.finish("eu", "m", our_delete_failed=True)
    assert not marks.removed_by_someone_else("us", "m")  # regions are separate
    assert marks.removed_by_someone_else("eu", "m")
    assert not marks.removed_by_someone_else("eu", "m")  # one REMOVE record per mark
    assert len(marks) == 0


def test_the_reader_waits_for_an_attempt_in_flight():
    marks = MarkedDeletes()
    marks.begin("eu", "m")
    answer = []
    reader = threading.Thread(target=lambda: answer.append(marks.removed_by_someone_else("eu", "m", wait_s=10)))
    reader.start()
    time.sleep(0.05)
    assert reader.is_alive() and not answer  # still waiting for the applier
    marks.finish("eu", "m", our_delete_failed=True)
    reader.join(timeout=5)
    assert answer == [True]


def test_an_attempt_that_never_ends_counts_as_ours_after_the_wait():
    marks = MarkedDeletes()
    marks.begin("eu", "m")
    assert not marks.removed_by_someone_else("eu", "m", wait_s=0.01)


def test_refusals_whose_remove_never_comes_are_forgotten():
    now = [1000.0]
    marks = MarkedDeletes(clock=lambda: now[0])
    marks.begin("eu", "old")
    marks.finish("eu", "old", our_delete_failed=True)  # a client's put replaced the marked item: no REMOVE
    now[0] += KEEP_S + 1
    marks.begin("eu", "new")
    marks.finish("eu", "new", our_delete_failed=False)
    assert len(marks) == 0

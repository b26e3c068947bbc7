"""The pure parts of the fault injector: when replication counts as drained, and the fault kinds' names."""

from backend.local.chaos import faults


def status(backlogs=None, backfill=()):
    backlogs = backlogs or {}
    pairs = [
        {"source": s, "destination": d, "backlog": backlogs.get((s, d), 0), "checkpoint": "1"}
        for s in ("a", "b")
        for d in ("a", "b")
        if s != d
    ]
    return {
        "pairs": pairs,
        "backfill_pending": list(backfill),
    }


def test_no_status_is_never_idle():
    assert not faults.replication_idle(None)


def test_idle_everywhere_needs_no_backlog_or_backfill():
    assert faults.replication_idle(status())
    assert not faults.replication_idle(status(backlogs={("a", "b"): 1}))
    assert not faults.replication_idle(status(backfill=["a"]))


def test_drained_from_one_source_ignores_the_other_sources_and_backfills_elsewhere():
    # a region about to be killed only needs its own records read out; a peer's backfill copies from others
    assert faults.replication_idle(status(backlogs={("b", "a"): 5}, backfill=["b"]), only_source="a")
    assert not faults.replication_idle(status(backlogs={("a", "b"): 5}), only_source="a")


def test_every_kind_has_an_injector():
    for kind in faults.KINDS:
        assert callable(faults.inject.__globals__["inject_" + kind.replace("-", "_")])

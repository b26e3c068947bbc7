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


def test_a_strong_run_adds_region_isolation_healed_once():
    assert faults.STRONG_KINDS == (*faults.KINDS, "region-isolate")
    calls = []

    class Control:
        def isolate_region(self, region):
            calls.append(("isolate", region))

        def reconnect_region(self, region):
            calls.append(("reconnect", region))

    cloud = type("Cloud", (), {"control": Control()})()
    heal = faults.inject(cloud, "region-isolate", "us-east-2", {})
    heal()
    heal()
    assert calls == [("isolate", "us-east-2"), ("reconnect", "us-east-2")]


def test_a_restarting_mrsc_region_leaves_every_door_list_and_comes_back_to_all(monkeypatch):
    from backend.local.chaos import strong_restart

    posted = []
    monkeypatch.setattr(strong_restart, "call_json", lambda method, url, document: posted.append((url, document)))
    cloud = type("Cloud", (), {})()
    cloud.region_info = {r: {"admin": f"http://{r}"} for r in ("us-east-1", "us-east-2")}
    cloud.witness, cloud.witness_info = "us-west-2", {"admin": "http://us-west-2"}
    strong_restart.leave_quorum(cloud, "us-east-2")
    assert posted == [
        (f"http://{r}/__admin/peers", {"doors": {"us-east-1": "http://us-east-1/__admin/dynamodb",
                                                  "us-west-2": "http://us-west-2/__admin/dynamodb"}})
        for r in ("us-east-1", "us-west-2")
    ]  # fmt: skip
    posted.clear()
    strong_restart.publish_doors(cloud)
    assert [url for url, _ in posted] == [f"http://{r}/__admin/peers" for r in ("us-east-1", "us-east-2", "us-west-2")]
    assert all(len(document["doors"]) == 3 for _, document in posted)

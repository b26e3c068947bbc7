"""The fault-run checker on synthetic histories: each test writes the history a real run could record."""

import itertools

from backend.local.chaos.checker import check, quantiles, version_of

R1, R2 = "eu-central-1", "us-west-2"


class Recorder:
    """Builds a history as the runner records it: invoke then completion, one op id each, time moving on."""

    def __init__(self):
        self.events, self.clock, self.ops = [], itertools.count(), itertools.count()

    def _event(self, **event):
        event["t"] = float(next(self.clock))
        self.events.append(event)
        return event

    def write(self, key, value, target, outcome="ok", written_at=None, process="c0"):
        op = next(self.ops)
        base = {"process": process, "op": op, "f": "write", "key": key, "value": value, "target": target}
        self._event(type="invoke", **base)
        if outcome == "ok":
            version = None if written_at is None else f"{written_at * 1000}:{target}"  # as the region stamps it
            self._event(type="ok", region=target, writtenAt=written_at, version=version, **base)
        else:
            self._event(type=outcome, error="timeout" if outcome == "info" else "HTTP 400", **base)

    def begin_read(self, key, target, process="r0"):
        op = next(self.ops)
        base = {"process": process, "op": op, "f": "read", "key": key, "target": target}
        self._event(type="invoke", **base)
        return base

    def end_read(self, base, value=None, written_at=None, write_region=None):
        self._event(type="ok", value=value, region=base["target"], writtenAt=written_at, writeRegion=write_region,
                    **base)  # fmt: skip

    def read(self, key, target, value=None, written_at=None, write_region=None, process="r0"):
        self.end_read(self.begin_read(key, target, process), value, written_at, write_region)


def item(value, region, written_at):
    """A final item: what the API read, and the hidden version the regions' door reports for it."""
    return {"value": value, "region": region, "writtenAt": written_at, "version": f"{written_at * 1000}:{region}"}


def both(state):
    return {R1: dict(state), R2: dict(state)}


def test_a_clean_history_converges_with_nothing_lost():
    h = Recorder()
    h.write("a", "v1", R1, written_at=100)
    h.write("a", "v2", R2, written_at=200)
    h.read("a", R1, "v2", 200, R2)
    report = check(h.events, both({"a": item("v2", R2, 200)}), convergence_s=1.5)
    assert report["converged"] is True
    assert report["lost_acknowledged_writes"] == 0
    assert report["never_written_reads"] == 0
    assert report["acknowledged_writes"] == 2
    assert report["operations"] == {"read:ok": 1, "write:ok": 2}
    assert report["convergence_s"] == 1.5


def test_an_acknowledged_write_missing_everywhere_is_lost():
    h = Recorder()
    h.write("a", "v1", R1, written_at=100)
    h.write("b", "v2", R1, written_at=101)
    report = check(h.events, both({"a": item("v1", R1, 100)}))
    assert report["converged"] is True  # identical, and still wrong
    assert report["lost_acknowledged_writes"] == 1
    assert {e["key"] for e in report["lost_examples"]} == {"b"}


def test_a_write_superseded_by_a_higher_timestamp_is_not_lost_even_if_acknowledged_later():
    h = Recorder()
    h.write("a", "ahead", R2, written_at=5000)  # R2's clock runs ahead
    h.write("a", "later", R1, written_at=300)  # acknowledged later in real time, older by timestamp
    report = check(h.events, both({"a": item("ahead", R2, 5000)}))
    assert report["lost_acknowledged_writes"] == 0


def test_an_older_value_winning_over_an_acknowledged_newer_one_is_a_loss():
    h = Recorder()
    h.write("a", "old", R1, written_at=100)
    h.write("a", "new", R2, written_at=200)
    report = check(h.events, both({"a": item("old", R1, 100)}))
    assert report["lost_acknowledged_writes"] == 1
    assert report["lost_examples"][0]["value"] == "new"


def test_writes_are_ordered_by_hidden_version_not_by_written_at():
    assert version_of(item("x", R2, 100)) > version_of(item("y", R1, 100))  # "us-…" > "eu-…"
    h = Recorder()
    h.write("a", "c1-1", R1, written_at=100, process="c1")
    h.write("a", "c2-1", R1, written_at=100, process="c2")
    h.events[-1]["version"] = "100001:" + R1  # one microsecond later in the region, same writtenAt
    report = check(h.events, both({"a": {**item("c2-1", R1, 100), "version": "100001:" + R1}}))
    assert report["lost_acknowledged_writes"] == 0
    report = check(h.events, both({"a": item("c1-1", R1, 100)}))
    assert report["lost_acknowledged_writes"] == 1 and report["lost_examples"][0]["value"] == "c2-1"


def test_an_acknowledged_write_without_a_version_is_counted_apart():
    h = Recorder()
    h.write("a", "v1", R1, written_at=100)
    h.events[-1]["version"] = None
    report = check(h.events, both({"a": item("v1", R1, 100)}))
    assert report["acknowledged_without_version"] == 1 and report["lost_acknowledged_writes"] == 0


def test_regions_that_differ_have_not_converged_and_the_missing_region_is_named():
    h = Recorder()
    h.write("a", "v1", R1, written_at=100)
    final = {R1: {"a": item("v1", R1, 100)}, R2: {}}
    report = check(h.events, final)
    assert report["converged"] is False
    assert report["divergent_keys"] == ["a"]
    assert report["lost_examples"][0]["missing_in"] == R2
    assert report["items_per_region"] == {R1: 1, R2: 0}


def test_a_value_nobody_wrote_is_counted_in_reads_and_in_the_final_state():
    h = Recorder()
    h.write("a", "v1", R1, written_at=100)
    h.read("a", R2, "ghost", 150, R2)
    report = check(h.events, both({"a": item("v1", R1, 100), "zombie": item("boo", R1, 1)}))
    assert report["never_written_reads"] == 3  # one read + the zombie key in each of the two regions
    assert {e["value"] for e in report["never_written_examples"]} == {"ghost", "boo"}


def test_an_indeterminate_write_may_be_visible_but_a_failed_one_may_not():
    h = Recorder()
    h.write("a", "maybe", R1, outcome="info")
    h.write("b", "never", R1, outcome="fail")
    h.read("a", R1, "maybe", 100, R1)
    h.read("b", R1, "never", 101, R1)
    report = check(h.events, both({"a": item("maybe", R1, 100)}))
    assert report["never_written_reads"] == 0
    assert report["failed_write_visible"] == 1
    assert report["failed_write_visible_examples"][0]["key"] == "b"
    assert report["operations"]["write:info"] == 1 and report["operations"]["write:fail"] == 1
    assert report["lost_acknowledged_writes"] == 0  # nothing acknowledged


def test_stale_reads_count_only_reads_that_began_after_the_acknowledgement():
    h = Recorder()
    concurrent = h.begin_read("a", R2)  # began before the write was acknowledged: any answer is fine
    h.write("a", "v1", R1, written_at=100)
    h.end_read(concurrent, None)
    h.read("a", R2, None)  # other region, not there yet: stale
    h.read("a", R1, None)  # the region that acknowledged it: stale too (it should never be)
    h.read("a", R2, "v1", 100, R1)  # fresh
    report = check(h.events, both({"a": item("v1", R1, 100)}))
    assert report["stale_reads"] == {"reads": 4, "total": 2, "same_region": 1, "other_region": 1}


def test_a_read_of_an_older_version_after_a_newer_acknowledgement_is_stale():
    h = Recorder()
    h.write("a", "v1", R1, written_at=100)
    h.write("a", "v2", R2, written_at=200)
    h.read("a", R1, "v1", 100, R1)
    report = check(h.events, both({"a": item("v2", R2, 200)}))
    assert report["stale_reads"]["other_region"] == 1


def test_faults_and_lag_samples_are_summarised_per_kind_and_pair():
    events = [
        {"t": 0.0, "type": "fault", "f": "start", "kind": "region-sigstop", "region": R1},
        {"t": 1.0, "type": "fault", "f": "heal", "kind": "region-sigstop", "region": R1},
        {"t": 2.0, "type": "fault", "f": "start", "kind": "clock-offset", "region": R2, "offset_ms": -2000},
    ]
    pair = f"{R1} -> {R2}"
    for ms in (10, 20, 30, 40):
        events.append({"t": 3.0, "type": "lag", "src": R1, "dst": R2, "ms": ms, "fault": None})
    events.append({"t": 4.0, "type": "lag", "src": R1, "dst": R2, "ms": 900, "fault": "region-sigstop"})
    events.append({"t": 5.0, "type": "lag", "src": R1, "dst": R2, "ms": None, "fault": "replication-pause"})
    report = check(events, both({}))
    assert report["faults"] == {"clock-offset": 1, "region-sigstop": 1}
    lag = report["lag_ms"][pair]
    assert lag["all"]["count"] == 5 and lag["all"]["max"] == 900
    assert lag["no_fault"]["count"] == 4 and lag["no_fault"]["p50"] == 30
    assert lag["not_seen"] == 1


def test_quantiles_of_nothing_are_none():
    assert quantiles([]) == {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
    assert quantiles([3, 1, 2])["p50"] == 2


def direct_write(h, key, value, region, t0_us, t1_us):
    """A write straight to a region's DynamoDB endpoint: no version back, only the call's time."""
    op = next(h.ops)
    base = {"process": "d0", "op": op, "f": "write", "key": key, "value": value, "target": region,
            "via": "dynamodb", "region": region}  # fmt: skip
    h._event(type="invoke", **base)
    h._event(type="ok", t0_us=t0_us, t1_us=t1_us, **base)


def test_a_direct_write_is_lost_only_when_a_region_ends_below_its_calls_start():
    h = Recorder()
    direct_write(h, "a", "d1", R1, t0_us=500_000, t1_us=501_000)
    kept = {**item("d1", R1, 500), "version": f"500400:{R1}", "writtenAt": None}  # stamped during the call
    report = check(h.events, both({"a": kept}))
    assert report["lost_acknowledged_writes"] == 0 and report["acknowledged_direct_writes"] == 1
    older = {**item("x", R2, 499), "version": f"499999:{R2}"}  # a region that ends older than the call: lost
    report = check(h.events, {R1: {"a": kept}, R2: {"a": older}})
    assert report["lost_acknowledged_writes"] == 1 and report["lost_examples"][0]["missing_in"] == R2
    assert report["acknowledged_without_version"] == 0


def test_a_direct_write_into_a_region_whose_clock_runs_behind_is_bounded_by_that_lag():
    h = Recorder()
    h._event(type="fault", f="start", kind="clock-offset", region=R1, offset_ms=-2000)
    direct_write(h, "a", "d1", R1, t0_us=5_000_000, t1_us=5_001_000)
    h._event(type="fault", f="heal", kind="clock-offset", region=R1)
    stamped = {**item("d1", R1, 3000), "version": f"3000500:{R1}"}  # the region's clock was 2 s behind
    report = check(h.events, both({"a": stamped}))
    assert report["lost_acknowledged_writes"] == 0
    too_old = {**item("x", R2, 2900), "version": f"2999000:{R2}"}  # older even than the lagging clock allows
    assert check(h.events, {R1: {"a": stamped}, R2: {"a": too_old}})["lost_acknowledged_writes"] == 1

"""The MRSC rules of the fault-run checker (stale strong reads, availability per fault) on synthetic histories,
each one a history a real strong run could record: operations overlap in time as concurrent clients' do."""

import itertools

from backend.local.chaos.checker import check
from backend.local.chaos.report import passed, render
from backend.local.chaos.strong_checks import availability, stale_strong_reads
from backend.local.chaos.strong_restart import behind

E1, E2, W2 = "us-east-1", "us-east-2", "us-west-2"


class History:
    """Invocations and completions at explicit times, as concurrent clients produce them."""

    def __init__(self):
        self.events, self.ops = [], itertools.count()

    def _add(self, t, **event):
        self.events.append({"t": float(t), **event})

    def write(self, key, value, region, invoked, done, outcome="ok", version_us=None, direct=False):
        base = {"process": f"w-{value}", "op": next(self.ops), "f": "write", "key": key, "value": value,
                "target": region}  # fmt: skip
        if direct:
            base |= {"via": "dynamodb", "region": region}
        self._add(invoked, type="invoke", **base)
        if outcome != "ok":
            self._add(done, type=outcome, error="HTTP 409" if outcome == "fail" else "HTTP 500", **base)
        elif direct:
            self._add(done, type="ok", t0_us=version_us, t1_us=version_us + 500, **base)
        else:
            self._add(done, type="ok", region=region, version=f"{version_us}:{region}", **base)

    def strong_read(self, key, region, invoked, done, value, outcome="ok"):
        base = {"process": f"r{invoked}", "op": next(self.ops), "f": "read", "consistent": True, "key": key,
                "target": region}  # fmt: skip
        self._add(invoked, type="invoke", **base)
        if outcome == "ok":
            self._add(done, type="ok", value=value, region=region, **base)
        else:
            self._add(done, type=outcome, error="HTTP 500 InternalServerError", **base)

    def fault(self, kind, region, start, heal):
        self._add(start, type="fault", f="start", kind=kind, region=region)
        self._add(heal, type="fault", f="heal", kind=kind, region=region)

    def sorted(self):
        return sorted(self.events, key=lambda e: e["t"])


def stale(history):
    return stale_strong_reads(history.sorted())


def test_a_strong_read_after_the_acknowledgement_that_returns_the_write_or_a_newer_one_is_fresh():
    h = History()
    h.write("k", "v1", E1, 1, 2, version_us=1_000)
    h.write("k", "v2", E2, 3, 4, version_us=3_000)
    h.strong_read("k", W2, 5, 6, "v2")
    h.strong_read("k", E1, 2.5, 6, "v1")  # begun after v1's ack, v2 not acknowledged yet: v1 is fine
    result = stale(h)
    assert (result["reads"], result["stale"], result["judged_fresh"]) == (2, 0, 2)


def test_a_strong_read_returning_the_previous_write_after_the_acknowledgement_is_stale():
    h = History()
    h.write("k", "v1", E1, 1, 2, version_us=1_000)
    h.write("k", "v2", E2, 3, 4, version_us=3_000)
    h.strong_read("k", W2, 5, 6, "v1")
    result = stale(h)
    assert result["stale"] == 1
    [example] = result["examples"]
    assert (example["returned"], example["newer_write"], example["region"]) == ("v1", "v2", W2)
    assert example["newer_version"] == f"3000:{E2}"


def test_a_strong_read_finding_nothing_after_an_acknowledged_write_is_stale():
    h = History()
    h.write("k", "v1", E1, 1, 2, version_us=1_000)
    h.strong_read("k", E2, 1.5, 1.8, None)  # begun before the ack: nothing is fine
    h.strong_read("k", E2, 3, 4, None)
    result = stale(h)
    assert (result["stale"], result["no_write_before"]) == (1, 1)


def test_concurrent_writes_either_may_be_read_but_not_the_one_ordered_first_by_version():
    # v1 and v2 overlap in time: their order is the regions' (the hidden version), not real time.
    h = History()
    h.write("k", "v1", E1, 1, 4, version_us=2_000)
    h.write("k", "v2", E2, 2, 3, version_us=1_500)  # acknowledged first, but ordered first too
    h.strong_read("k", W2, 3.5, 3.8, "v2")  # only v2 acknowledged when it began: fresh
    h.strong_read("k", W2, 5, 6, "v1")  # v1 has the higher version: fresh, though v2 was acknowledged first
    h.strong_read("k", E1, 5, 6, "v2")  # v2 < v1, both acknowledged before the read: stale
    result = stale(h)
    assert (result["reads"], result["stale"], result["judged_fresh"]) == (3, 1, 2)
    assert result["examples"][0]["returned"] == "v2" and result["examples"][0]["region"] == E1


def test_real_time_order_judges_direct_writes_that_carry_no_version():
    h = History()
    h.write("k", "d1", E1, 1, 2, version_us=1_000, direct=True)
    h.write("k", "d2", E2, 3, 4, version_us=3_000, direct=True)  # invoked after d1's ack: certainly newer
    h.strong_read("k", W2, 5, 6, "d1")
    h.strong_read("k", W2, 5, 6, "d2")
    result = stale(h)
    assert (result["stale"], result["judged_fresh"]) == (1, 1)


def test_a_direct_write_lower_bound_above_the_returned_version_makes_the_read_stale():
    h = History()
    h.write("k", "v1", E1, 1, 3, version_us=1_000)
    h.write("k", "d2", E2, 2, 4, version_us=5_000, direct=True)  # overlaps v1; its call began at 5000 µs
    h.strong_read("k", W2, 5, 6, "v1")
    assert stale(h)["stale"] == 1


def test_a_value_whose_write_outcome_is_unknown_is_not_judged():
    h = History()
    h.write("k", "v1", E1, 1, 2, version_us=1_000)
    h.write("k", "v2", E2, 3, 4, outcome="info")
    h.strong_read("k", W2, 5, 6, "v2")
    result = stale(h)
    assert (result["stale"], result["not_judged"]) == (0, 1)


def test_eventual_reads_are_not_judged_as_strong_and_strong_reads_not_as_eventual():
    h = History()
    h.write("k", "v1", E1, 1, 2, version_us=1_000)
    h.write("k", "v2", E2, 3, 4, version_us=3_000)
    h._add(5, type="invoke", process="e", op=99, f="read", key="k", target=W2)
    h._add(6, type="ok", process="e", op=99, f="read", key="k", target=W2, value="v1", region=W2)
    h.strong_read("k", W2, 5, 6, "v2")
    report = check(h.sorted(), {})
    assert report["stale_reads"]["total"] == 1 and report["stale_reads"]["reads"] == 1
    assert report["strong_reads"]["stale"] == 0 and report["strong_reads"]["reads"] == 1
    assert report["operations"]["read(strong):ok"] == 1


def test_availability_counts_outcomes_by_fault_and_by_target():
    h = History()
    h.fault("region-isolate", E1, 10, 20)
    h.write("k", "a", E1, 11, 12, outcome="info")  # an isolated region's InternalServerError
    h.write("k", "b", E2, 11, 12, version_us=11_000)
    h.write("k", "c", W2, 11.5, 12, outcome="fail")  # a conflict
    h.strong_read("k", E1, 13, 14, None, outcome="fail")
    h.strong_read("k", E2, 13, 14, "b")
    h.write("k", "g", "global", 15, 16, outcome="info")  # routed to the isolated region
    h.write("k", "d", E1, 21, 22, version_us=21_000)
    table = availability(h.sorted())
    assert table["region-isolate"]["faulted region"] == {
        "writes": {"unknown": 1}, "strong_reads": {"refused": 1}
    }
    assert table["region-isolate"]["other regions"] == {
        "writes": {"ok": 1, "refused": 1}, "strong_reads": {"ok": 1}
    }
    assert table["region-isolate"]["global endpoint"] == {"writes": {"unknown": 1}}
    assert table["none"]["other regions"] == {"writes": {"ok": 1}}


def test_a_stale_strong_read_fails_the_run_and_is_reported():
    h = History()
    h.write("k", "v1", E1, 1, 2, version_us=1_000)
    h.write("k", "v2", E2, 3, 4, version_us=3_000)
    h.strong_read("k", W2, 5, 6, "v1")
    final = {r: {"k": {"value": "v2", "region": E2, "writtenAt": 3, "version": f"3000:{E2}"}} for r in (E1, E2, W2)}
    report = check(h.sorted(), final, convergence_s=0.5)
    report.update(fault_errors=[], scan_matches_api=True, replicator_pairs=[], wall_s=1.0, settings={
        "seconds": 1, "regions": [E1, E2, W2], "clients": 1, "seed": 1, "fault_s": 1, "gap_s": 1,
        "network": "none", "hot_keys": 1, "hot_fraction": 0.3, "write_fraction": 0.6, "direct_fraction": 0.25,
        "keys_per_client": 1, "think_ms": 20, "clock_offset_ms": 2000, "request_timeout_s": 5,
        "consistency": "strong", "witness": None, "kinds": ["region-isolate"], "strong_read_fraction": 0.7,
    })  # fmt: skip
    assert report["lost_acknowledged_writes"] == 0 and not passed(report)
    text = render(report, "python -m backend.local.chaos --consistency strong")
    assert "Result: **FAIL**" in text and "stale: 1**" in text and "## Availability per fault" in text


def test_a_restarted_region_is_behind_until_it_holds_every_version_of_the_snapshot():
    snapshot = {"a": (5, E1), "b": (7, E2)}
    assert behind({}, snapshot) == ["a", "b"]
    assert behind({"a": (5, E1), "b": (6, W2)}, snapshot) == ["b"]
    assert behind({"a": (9, W2), "b": (7, E2), "c": (1, E1)}, snapshot) == []

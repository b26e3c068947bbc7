"""ReplicationLatency per pair, errors and delays, without any server."""

from backend.local.replication.delays import FALLBACK_REALISTIC_DELAY_MS, Delays
from backend.local.replication.metrics import LATENCY_SAMPLES, Errors, Metrics, PairStats

WEST, CENTRAL = "us-west-2", "eu-central-1"


def test_a_pair_summary_has_count_quantiles_max_and_last_apply():
    stats = PairStats()
    assert stats.summary() == {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None, "last_apply": None}
    for n in range(100):
        stats.add(1000.0 + n, n)
    assert stats.summary() == {"count": 100, "p50_ms": 50, "p99_ms": 99, "max_ms": 99, "last_apply": 1099.0}


def test_the_samples_are_bounded_but_the_count_is_not():
    stats = PairStats()
    for n in range(LATENCY_SAMPLES + 10):
        stats.add(float(n), 5)
    assert len(stats.samples) == LATENCY_SAMPLES and stats.summary()["count"] == LATENCY_SAMPLES + 10


def test_summaries_cover_every_pair_of_distinct_regions_with_its_backlog():
    metrics = Metrics([WEST, CENTRAL])
    metrics.add(WEST, CENTRAL, 10.0, 120)
    metrics.add(WEST, CENTRAL, 11.0, 80)
    summaries = metrics.summaries(lambda src, dst: 3 if src == WEST else 0)
    assert [(s["source"], s["destination"], s["backlog"], s["count"]) for s in summaries] == [
        (CENTRAL, WEST, 0, 0),
        (WEST, CENTRAL, 3, 2),
    ]
    assert "recent" not in summaries[0]
    recent = metrics.summaries(lambda src, dst: 0, recent=1)[1]["recent"]
    assert recent == [{"at": 11.0, "ms": 80}]
    metrics.reset()
    assert all(s["count"] == 0 for s in metrics.summaries(lambda src, dst: 0))


def test_errors_keep_the_last_message_per_region_until_cleared():
    errors = Errors()
    errors.note(WEST, "reading the stream: boom")
    errors.note(WEST, "applying: later")
    assert errors.to_json() == {WEST: "applying: later"}
    errors.clear(WEST)
    errors.clear(CENTRAL)  # nothing to clear: fine
    assert errors.to_json() == {}


def test_delays_come_from_the_network_model_unless_overridden():
    delays = Delays("realistic")
    modelled = delays.delay_ms(WEST, CENTRAL)
    assert modelled > 0 and delays.delay_ms(WEST, WEST) == 0
    assert Delays("none").delay_ms(WEST, CENTRAL) == 0
    assert Delays("realistic").delay_ms("mars-1", CENTRAL) == FALLBACK_REALISTIC_DELAY_MS
    delays.set_override(250)
    assert delays.delay_ms(WEST, CENTRAL) == 250 and delays.delay_ms(CENTRAL, CENTRAL) == 0
    delays.set_override(None)
    delays.set_network("none")
    assert delays.delay_ms(WEST, CENTRAL) == 0
    assert delays.to_json() == {"network": "none", "delay_override": None}
    restored = Delays()
    restored.load_json({"network": "none", "delay_override": 40})
    assert (restored.network, restored.override_ms) == ("none", 40)

"""The short fault run of an MRSC (multi-Region strong consistency) local cloud: three US regions, every kind of
fault once (region-isolate included, and a region restart that keeps the empty region out of the quorum until it
has caught up), clients writing, reading eventually and reading strongly. No acknowledged write may be lost and no
strong read may be stale (return a write older than one acknowledged before it began)."""

import pytest

from backend.local.chaos import faults, runner

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def strong_run(tmp_path_factory):
    run = runner.ChaosRun(
        seconds=20,
        regions=runner.STRONG_REGIONS,
        consistency="strong",
        clients=3,
        seed=11,
        fault_s=1.5,
        gap_s=0.5,
        warmup_s=1.0,
        keys_per_client=60,
        quiescence_timeout_s=90,
        log=lambda line: None,
        history_path=tmp_path_factory.mktemp("chaos-strong") / "history.jsonl",
    )
    return run.run()


def test_every_kind_of_fault_was_injected_and_healed(strong_run):
    assert strong_run["fault_errors"] == []
    assert set(strong_run["faults"]) == set(faults.STRONG_KINDS)


def test_no_acknowledged_write_is_lost_and_every_region_converges(strong_run):
    assert strong_run["acknowledged_writes"] > 100
    assert strong_run["lost_acknowledged_writes"] == 0, strong_run["lost_examples"]
    assert strong_run["converged"], strong_run["divergent_keys"]
    assert strong_run["never_written_reads"] == 0 and strong_run["failed_write_visible"] == 0


def test_no_strong_read_is_stale(strong_run):
    reads = strong_run["strong_reads"]
    assert reads["judged_fresh"] > 50  # strong reads really happened, after acknowledged writes
    assert reads["stale"] == 0, reads["examples"]


def test_an_isolated_region_refuses_while_the_others_serve(strong_run):
    isolate = strong_run["availability"]["region-isolate"]
    inside = isolate.get("faulted region", {})
    refused = [outcomes.get("refused", 0) + outcomes.get("unknown", 0) for outcomes in inside.values()]
    assert sum(refused) > 0, isolate  # (a request sent just before the isolation took effect may still succeed)
    assert isolate["other regions"]["writes"].get("ok", 0) > 0, isolate

"""The short fault run (`make test`): every kind of fault once, against a real local cloud on 127.0.0.1.

Clients write and read through the regions and the global endpoint while the replicator is paused, killed with
kill -9, a region is killed and restarted empty, a region is stopped with SIGSTOP, and a region's clock is skewed.
After healing, every region must hold the same items, no acknowledged write may be lost (unless a higher
(writtenAt, region) write superseded it) and no read may return a value that was never written.
"""

import json

import pytest

from backend.local.chaos import faults, runner
from backend.local.chaos.report import render

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    history = tmp_path_factory.mktemp("chaos") / "history.jsonl"
    run = runner.ChaosRun(
        seconds=6,
        regions=("us-west-2", "eu-central-1"),
        clients=3,
        seed=7,
        fault_s=1.2,
        gap_s=0.5,
        warmup_s=1.0,
        keys_per_client=60,
        quiescence_timeout_s=90,
        log=lambda line: None,
        history_path=history,
    )
    report = run.run()
    return report, history, run


def test_every_kind_of_fault_was_injected_and_healed(short_run):
    report, _, _ = short_run
    assert report["fault_errors"] == []
    assert set(report["faults"]) == set(faults.KINDS)


def test_the_regions_converge_after_healing(short_run):
    report, _, _ = short_run
    assert report["converged"], report["divergent_keys"]
    assert report["convergence_s"] is not None
    assert report["scan_matches_api"] is True
    assert len(set(report["items_per_region"].values())) == 1


def test_no_acknowledged_write_is_lost_and_no_read_invents_a_value(short_run):
    report, _, _ = short_run
    assert report["acknowledged_writes"] > 100  # the clients really wrote through the faults
    assert report["lost_acknowledged_writes"] == 0, report["lost_examples"]
    assert report["never_written_reads"] == 0, report["never_written_examples"]
    assert report["failed_write_visible"] == 0, report["failed_write_visible_examples"]


def test_the_history_is_jsonl_with_every_operation_completed_once(short_run):
    report, history, run = short_run
    events = [json.loads(line) for line in history.read_text().splitlines()]
    assert events == run.history.events
    invoked = {(e["process"], e["op"]) for e in events if e.get("type") == "invoke"}
    completed = [(e["process"], e["op"]) for e in events if e.get("type") in ("ok", "fail", "info")]
    assert sorted(completed) == sorted(invoked)
    assert report["operations_total"] == len(completed)


def test_the_report_renders_with_its_figures(short_run):
    report, _, _ = short_run
    text = render(report, "python -m backend.local.chaos --seconds 6")
    assert "Result: **PASS**" in text
    assert "| acknowledged writes lost" in text
    assert "us-west-2 -> eu-central-1" in text

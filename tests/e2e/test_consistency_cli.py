"""``mrkv-probe consistency --json`` on two real local clouds it starts itself (network none, a small workload):
MREC acknowledges both racing writes and silently loses one, and keeps taking writes in the region cut off from the
others, where MRSC refuses them; MRSC loses no acknowledged write and serves no stale strong read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from consistency_support import API_PENDING, QUICK, needs_mrsc

pytestmark = [pytest.mark.e2e, needs_mrsc]

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ["us-east-1", "us-east-2", "us-west-2"]
TRIALS = 3


def probe(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dashboard.measure", *args],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=180,
    )  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[dict, subprocess.CompletedProcess, Path]:
    """One comparison for the module's tests, kept in a run store of its own."""
    store = tmp_path_factory.mktemp("consistency") / "runs.sqlite"
    started = time.monotonic()
    done = probe(
        "consistency", "--json", "--network", "none", "--writes", str(QUICK["writes"]), "--trials", str(TRIALS),
        "--isolation-rounds", str(QUICK["isolation_rounds"]), "--isolate", "us-west-2", "--store", str(store),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    print(f"\nmrkv-probe consistency took {time.monotonic() - started:.1f} s\n{done.stderr}")
    return json.loads(done.stdout), done, store


def test_the_table_and_the_json_cover_both_clouds_and_the_run_is_kept(run):
    document, done, store = run
    assert document["kind"] == "consistency" and document["run"]
    figures = document["figures"]
    for totals in figures["sides"].values():
        assert totals["writes_acked"] == QUICK["writes"] and totals["conflict_trials"] == TRIALS
    rows = {(r["side"], r["region"]): r for r in figures["regions"]}
    assert set(rows) == {(side, region) for side in ("MREC", "MRSC") for region in REGIONS}
    assert all(
        r["write_p50_ms"] is not None and r["write_p50_ms"] <= r["write_p99_ms"] for r in rows.values()
    )
    assert "conflicts ack/rej/lost" in done.stderr  # the table goes to stderr when stdout holds the JSON
    shown = probe("runs", "show", document["run"], "--json", "--store", str(store))
    assert shown.returncode == 0, shown.stderr
    kept = json.loads(shown.stdout)
    assert (kept["kind"], kept["status"], kept["summary"]["sides"]) == (
        "consistency",
        "complete",
        figures["sides"],
    )


def test_mrec_loses_a_racing_write_and_keeps_writing_when_cut_off_where_mrsc_refuses(run):
    figures = run[0]["figures"]
    mrec, mrsc = figures["sides"]["MREC"], figures["sides"]["MRSC"]
    assert mrec["conflict_rejected"] == 0 and mrec["conflict_lost"] >= 1, mrec
    assert mrsc["strong_stale"] == 0 and mrsc["eventual_stale"] == 0, (
        mrsc
    )  # a quorum has every acknowledged write
    assert mrsc["isolated_region"] == mrec["isolated_region"] == "us-west-2"
    assert (mrec["isolated_write_avail_pct"], mrec["isolated_eventual_avail_pct"]) == (100, 100), mrec
    assert (mrsc["isolated_write_avail_pct"], mrsc["isolated_eventual_avail_pct"]) == (0, 100), mrsc
    rows = {(r["side"], r["region"]): r for r in figures["regions"]}
    for region in ("us-east-1", "us-east-2"):  # the majority side of MRSC keeps serving
        assert rows[("MRSC", region)]["write_avail_pct"] == 100


@API_PENDING
def test_mrsc_rejects_a_racing_write_loses_none_and_refuses_strong_reads_when_cut_off(run):
    mrsc = run[0]["figures"]["sides"]["MRSC"]
    assert mrsc["conflict_lost"] == 0 and mrsc["conflict_rejected"] >= 1, mrsc
    assert mrsc["conflict_kept"] == TRIALS, mrsc  # one write of each race stands
    assert mrsc["isolated_strong_avail_pct"] == 0, mrsc

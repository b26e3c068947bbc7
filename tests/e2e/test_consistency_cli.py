"""``mrkv-probe consistency --json`` on two real local clouds it starts itself (network none, a small workload):
MREC acknowledges both racing writes and keeps taking writes in the region cut off from the others; MRSC rejects a
racing write (or orders the two), loses no acknowledged write, serves no stale strong read, and refuses writes and
strong reads in the cut-off region while the other two serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from consistency_support import QUICK, needs_mrsc

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


def test_mrec_acknowledges_both_racing_writes_mrsc_loses_none(run):
    figures = run[0]["figures"]
    mrec, mrsc = figures["sides"]["MREC"], figures["sides"]["MRSC"]
    # Each race: exactly one write stands on both clouds.
    assert mrec["conflict_kept"] == mrsc["conflict_kept"] == TRIALS, (mrec, mrsc)
    # MREC acknowledges both writes of every race: the other one is overwritten, read back first or not.
    assert mrec["conflict_rejected"] == mrec["conflict_failed"] == 0, mrec
    assert mrec["conflict_lost"] + mrec["conflict_superseded"] == TRIALS, mrec
    # MRSC: a write racing another region's is rejected (409), or the two were ordered; never read back, then gone.
    assert mrsc["conflict_lost"] == mrsc["conflict_failed"] == 0, mrsc
    assert mrsc["conflict_rejected"] + mrsc["conflict_superseded"] == TRIALS, mrsc


def test_mrsc_reads_are_never_stale_and_its_cut_off_region_refuses_what_mrec_takes(run):
    figures = run[0]["figures"]
    mrec, mrsc = figures["sides"]["MREC"], figures["sides"]["MRSC"]
    assert mrsc["strong_stale"] == 0, mrsc  # a strong read anywhere returns the last acknowledged write
    assert mrsc["isolated_region"] == mrec["isolated_region"] == "us-west-2"
    assert (mrsc["isolated_write_avail_pct"], mrsc["isolated_strong_avail_pct"]) == (0, 0), mrsc
    assert mrsc["isolated_eventual_avail_pct"] == 100, mrsc
    assert (mrec["isolated_write_avail_pct"], mrec["isolated_strong_avail_pct"]) == (100, 100), mrec
    rows = {(r["side"], r["region"]): r for r in figures["regions"]}
    for region in ("us-east-1", "us-east-2"):  # the majority side of MRSC keeps serving
        row = rows[("MRSC", region)]
        assert row["write_avail_pct"] == row["strong_avail_pct"] == row["eventual_avail_pct"] == 100, row

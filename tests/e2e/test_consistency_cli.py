"""``mrkv-probe consistency --json`` on two real local clouds it starts itself (network none, a small workload):
MRSC loses no acknowledged write and serves no stale strong read; MREC acknowledges both conflicting writes and
silently loses one, and keeps taking writes in the region cut off from the others, where MRSC refuses them."""

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


def probe(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dashboard.measure", *args],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_consistency_json_on_an_mrec_and_an_mrsc_cloud():
    started = time.monotonic()
    done = probe(
        "consistency", "--json", "--network", "none", "--writes", str(QUICK["writes"]),
        "--trials", "3", "--isolation-rounds", str(QUICK["isolation_rounds"]), "--isolate", "us-west-2",
    )  # fmt: skip
    took_s = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(done.stdout)
    print(f"\nmrkv-probe consistency took {took_s:.1f} s\n{done.stderr}")
    assert document["kind"] == "consistency" and document["run"]
    mrec, mrsc = document["figures"]["sides"]["MREC"], document["figures"]["sides"]["MRSC"]
    for side in (mrec, mrsc):
        assert side["writes_acked"] == QUICK["writes"] and side["conflict_trials"] == 3
    # MRSC: nothing acknowledged is lost, a strong read anywhere shows the last acknowledged write.
    assert mrsc["conflict_lost"] == 0 and mrsc["strong_stale"] == 0, mrsc
    assert mrsc["conflict_kept"] == 3, (
        mrsc
    )  # one write of each race stands; the other is rejected or in order
    # MREC: both racing writes acknowledged, and one of them silently overwritten.
    assert mrec["conflict_rejected"] == 0 and mrec["conflict_lost"] >= 1, mrec
    # Cut off: MRSC's region refuses writes and strong reads but still answers eventual reads; MREC's takes all.
    assert mrsc["isolated_region"] == mrec["isolated_region"] == "us-west-2"
    assert (mrsc["isolated_write_avail_pct"], mrsc["isolated_strong_avail_pct"]) == (0, 0), mrsc
    assert mrsc["isolated_eventual_avail_pct"] == 100, mrsc
    assert (mrec["isolated_write_avail_pct"], mrec["isolated_eventual_avail_pct"]) == (100, 100), mrec
    rows = {(r["side"], r["region"]): r for r in document["figures"]["regions"]}
    assert set(rows) == {(side, region) for side in ("MREC", "MRSC") for region in REGIONS}
    for region in ("us-east-1", "us-east-2"):  # the majority side of MRSC serves everything
        assert rows[("MRSC", region)]["write_avail_pct"] == rows[("MRSC", region)]["strong_avail_pct"] == 100
    assert all(
        r["write_p50_ms"] is not None and r["write_p50_ms"] <= r["write_p99_ms"] for r in rows.values()
    )
    # The table went to stderr (stdout holds the JSON), and the run is in the run store with its figures.
    assert "conflicts ack/rej/lost" in done.stderr
    listed = probe("runs", "show", document["run"], "--json")
    assert listed.returncode == 0, listed.stderr
    run = json.loads(listed.stdout)
    assert (run["kind"], run["status"], run["summary"]["sides"]["MRSC"]) == ("consistency", "complete", mrsc)

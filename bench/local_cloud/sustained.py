"""Section 6, replication under sustained load: a burst of writes into one region at the highest rate it accepts.

``wrk`` (2 threads, 16 keep-alive connections) POSTs ``writes`` distinct-valued writes over 2,000 keys into
us-west-2 of a two-region cloud (network none), as fast as the region answers, in back-to-back slices until it has had that many answers.
Meanwhile the stack is sampled every half second: the replication backlog (the control API's pairs), the stack's
RSS, and the replicator's ReplicationLatency (its last 2,000 applies). After the last write: how long until the
backlog is empty. Targets (the global-tables issue): lag p99 ≤ 1 s, the stack ≤ 300 MB throughout, drained ≤ 5 s.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from backend.local.cloud import LocalCloud
from bench.local_cloud.ceiling import CONNECTIONS, INSTALL_WRK, THREADS, post_script, run_wrk
from bench.local_cloud.load import EU, US, stack_rss

LAG_P99_TARGET_MS, RSS_TARGET_MB, DRAIN_TARGET_S = 1000, 300, 5.0
SAMPLE_EVERY_S = 0.5

# wrk runs for a duration (a thread told to stop still waits for it), so the writes are made in slices of SLICE_S
# seconds, back to back, until there have been ``writes`` answers. Each wrk thread writes its own 1,000 keys.
SLICE_S = 5


class _Sampler(threading.Thread):
    """Backlog, stack RSS and the replicator's latency every SAMPLE_EVERY_S, until ``stop``."""

    def __init__(self, cloud: LocalCloud):
        super().__init__(name="sustained-sampler", daemon=True)
        self.cloud, self.stopping = cloud, threading.Event()
        self.backlog_peak = self.rss_peak = 0
        self.worst_p99_ms = 0

    def run(self) -> None:
        while not self.stopping.wait(SAMPLE_EVERY_S):
            self.sample()

    def sample(self) -> int:
        """One sample; returns the backlog."""
        pairs = self.cloud.control.status()["replication"]["pairs"]
        backlog = sum(pair["backlog"] for pair in pairs)
        self.backlog_peak = max(self.backlog_peak, backlog)
        self.rss_peak = max(self.rss_peak, stack_rss(self.cloud))
        self.worst_p99_ms = max(self.worst_p99_ms, _latency(pairs)["p99_ms"] or 0)
        return backlog


def _latency(pairs: list[dict]) -> dict:
    """ReplicationLatency us-west-2 → eu-central-1 over the replicator's last 2,000 applies."""
    for pair in pairs:
        if (pair.get("source"), pair.get("destination")) == (US, EU):
            return pair
    return {"p50_ms": None, "p99_ms": None}


def bench_sustained(writes: int) -> dict:
    if shutil.which("wrk") is None:
        return {"skipped": INSTALL_WRK}
    with LocalCloud(regions=[US, EU], network="none") as cloud, tempfile.TemporaryDirectory() as folder:
        api = cloud.endpoints["regions"][US]
        script = Path(folder) / "sustained.lua"
        script.write_text(post_script(api, "sustained", "v" * 100))
        sampler = _Sampler(cloud)
        rss_idle = stack_rss(cloud)
        sampler.start()
        slices = []
        while sum(load["requests"] for load in slices) < writes:
            slices.append(run_wrk(api, SLICE_S, script))
        written_at = time.monotonic()
        latency_at_end = _latency(cloud.control.status()["replication"]["pairs"])
        while sampler.sample() > 0 and time.monotonic() - written_at < 900:
            time.sleep(0.1)
        drained_s = time.monotonic() - written_at
        sampler.stopping.set()
        sampler.join()
        count = sum(load["requests"] for load in slices)
        return {
            "writes": count,
            "errors": sum(load["errors"] for load in slices),
            "write_rps": round(count / sum(load["requests"] / load["requests_per_s"] for load in slices), 1),
            "write_p50_ms": round(statistics.median(load["p50_ms"] for load in slices), 2),
            "write_p99_ms": max(load["p99_ms"] for load in slices),
            "lag_p50_ms": latency_at_end["p50_ms"],
            "lag_p99_ms": latency_at_end["p99_ms"],
            "lag_worst_window_p99_ms": sampler.worst_p99_ms,
            "backlog_peak": sampler.backlog_peak,
            "drained_after_s": round(drained_s, 1),
            "rss_idle_mb": round(rss_idle / 2**20, 1),
            "rss_peak_mb": round(sampler.rss_peak / 2**20, 1),
            "wrk": f"-t{THREADS} -c{CONNECTIONS}, keep-alive, {len(slices)} slices of {SLICE_S} s back to back",
        }


def verdicts(sustained: dict) -> list[tuple[str, str, bool | None]]:
    if not sustained:
        return []
    if "skipped" in sustained:
        return [("replication under sustained load", f"skipped: {sustained['skipped']}", None)]
    rate = f"{sustained['writes']:,} writes at {sustained['write_rps']:.0f}/s"
    worst = sustained["lag_worst_window_p99_ms"]
    return [
        (
            f"lag p99 ≤ {LAG_P99_TARGET_MS} ms at the highest write rate ({rate})",
            f"{worst} ms",
            worst <= LAG_P99_TARGET_MS,
        ),
        (
            f"stack RSS ≤ {RSS_TARGET_MB} MB throughout ({rate})",
            f"{sustained['rss_peak_mb']} MB",
            sustained["rss_peak_mb"] <= RSS_TARGET_MB,
        ),
        (
            f"backlog drained ≤ {DRAIN_TARGET_S:.0f} s after the last write",
            f"{sustained['drained_after_s']} s",
            sustained["drained_after_s"] <= DRAIN_TARGET_S,
        ),
    ]


def markdown(sustained: dict) -> list[str]:
    if not sustained or "skipped" in sustained:
        return []
    s = sustained
    return [
        "## Replication under sustained load (two regions, network none)",
        "",
        f"wrk {s['wrk']}, POST into {US}: {s['writes']:,} writes ({s['errors']} errors) at {s['write_rps']:.0f}/s, "
        f"write p50 {s['write_p50_ms']} ms (median of the slices), p99 {s['write_p99_ms']} ms (worst slice).",
        f"- ReplicationLatency {US} → {EU} at the last write (its last 2,000 applies): p50 {s['lag_p50_ms']} ms, "
        f"p99 {s['lag_p99_ms']} ms; worst p99 seen in any half-second sample: {s['lag_worst_window_p99_ms']} ms",
        f"- backlog peak {s['backlog_peak']:,}; drained {s['drained_after_s']} s after the last write",
        f"- stack RSS idle {s['rss_idle_mb']} MB, peak {s['rss_peak_mb']} MB",
        "",
    ]

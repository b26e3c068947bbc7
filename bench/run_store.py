"""The run store at scale: ``python -m bench.run_store`` (a section of ``make bench``).

Builds a store of ``--runs`` latency runs holding ``--samples`` samples in all (three of them of ``--large``
samples each, the rest sharing what is left), through the real ``Recording``; then measures:

* listing every run (``RunStore.list``, what ``mrkv-probe runs list`` and the Compare page do): target <= 200 ms;
* the store's size per million samples (SQLite file + WAL);
* comparing two large runs: ``runs.compare`` in-process, and the Compare page in Chromium from the request
  to the drawn page (table, ECDF and box plot): target <= 2 s; the same page comparing two of the store's small
  runs, in the same run, is the baseline (the machine is shared: the ratio holds where absolute times do not).
  Each page load compares a pair it has not compared before, so the page's cache never answers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.run_context import SCRATCH, run_context

LIST_TARGET_S = 0.200
COMPARE_PAGE_TARGET_S = 2.0
TARGETS = ("us-west-2", "eu-central-1", "global")
LOCATIONS = ("Frankfurt", "Sydney", "Seattle", "Tokyo")


def synthetic_latency(n: int, seed: int) -> pd.DataFrame:
    """A latency run in the engine's sample schema: lognormal latencies per target, 0.5 % errors."""
    from dashboard.measure.samples import SAMPLE_COLUMNS

    rng = np.random.default_rng(seed)
    target_index = np.arange(n) % len(TARGETS)
    latency = rng.lognormal(np.log(20.0 + 60.0 * target_index), 0.3)
    ok = rng.random(n) > 0.005
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(1.76e9 + np.arange(n) * 0.001, unit="s", utc=True),
            "elapsed_s": np.arange(n) * 0.001, "target": np.array(TARGETS, dtype=object)[target_index],
            "operation": "read", "key": f"probe-latency-{seed}", "status": np.where(ok, 200, 0), "ok": ok,
            "latency_ms": latency, "connect_ms": 0.0, "new_connection": np.arange(n) < 4, "server_app_ms": 4.0,
            "server_db_ms": 2.5, "network_ms": latency - 4.0, "served_region": np.array(TARGETS, dtype=object)[target_index],
            "value": "", "write_region": "", "written_at": np.nan, "error": np.where(ok, "", "timeout").astype(object),
        }
    )  # fmt: skip
    return frame[SAMPLE_COLUMNS]


def build_store(path: Path, runs: int, samples: int, large: int) -> tuple[list[str], list[str], float]:
    """The store; returns the ids of the three large runs, of the small ones, and the seconds it took."""
    from dashboard.measure.runs.context import build_context
    from dashboard.measure.runs.recorder import Recording
    from dashboard.measure.runs.store import RunStore
    from dashboard.measure.targets import TargetSet

    store = RunStore(path)
    targets = TargetSet(
        {t: "http://127.0.0.1:9/dev" for t in TARGETS[:2]}, "http://127.0.0.1:9/dev", None, "bench"
    )
    rest = samples - 2 * large
    sizes = [large, large] + [
        rest // (runs - 2) + (1 if i < rest % (runs - 2) else 0) for i in range(runs - 2)
    ]
    ids, began = [], time.perf_counter()
    for index, size in enumerate(sizes):
        location = LOCATIONS[index % len(LOCATIONS)] if index >= 3 else "Frankfurt"
        context = build_context(targets, {"count": size // 3}, list(TARGETS), location, "realistic", "bench")
        with Recording(store, "latency", context, name=f"bench-{index:03d}") as run:
            run.complete({"samples": synthetic_latency(size, seed=index)})
        ids.append(run.id)
    return ids[:3], ids[3:], time.perf_counter() - began


def pairs(ids: list[str], count: int) -> list[list[str]]:
    """``count`` distinct ordered pairs of ``ids`` (a ring: 0-1, 1-2, …), then the first one reversed."""
    ring = [[ids[i], ids[(i + 1) % len(ids)]] for i in range(len(ids))]
    return (ring + [list(reversed(pair)) for pair in ring])[:count]


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return times


def page_seconds(page, url: str, runs: list[str]) -> float:
    """Seconds from the request of the Compare page for ``runs`` to the drawn page: the table, and the ECDF and
    box plot drawn by plotly. ``page`` is a tab that has shown the app before (its scripts cached and compiled,
    as for anyone who has the dashboard open); each request is a new page load and a new Streamlit session."""
    from bench.browser import wait_drawn

    began = time.perf_counter()
    page.goto(f"{url}/compare?kind=latency&runs={','.join(runs)}", wait_until="commit")
    page.get_by_test_id("stDataFrame").first.wait_for(timeout=60_000)
    wait_drawn(page, charts=2)
    elapsed = time.perf_counter() - began
    if page.locator('[data-testid="stException"]').count():
        raise RuntimeError(page.locator('[data-testid="stException"]').first.inner_text())
    if page.locator('[data-testid="stAlert"]').filter(has_text="share no target").count():
        raise RuntimeError("the page compared nothing")
    return elapsed


def measure(args, folder: Path) -> dict:
    from bench.browser import chromium, serve_dashboard
    from dashboard.measure.runs import compare
    from dashboard.measure.runs.store import RunStore

    path = folder / "runs.sqlite"
    large, small, build_s = build_store(path, args.runs, args.samples, args.large)
    store = RunStore(path)
    listed = timed(lambda: store.list(), 20)
    assert len(store.list()) == args.runs
    compare_s = timed(lambda: compare.compare(store, large[:2]), args.repeat)
    endpoints = folder / "endpoints.json"  # never contacted: the Compare page sends no request
    endpoints.write_text(json.dumps({"regions": {"us-west-2": "http://127.0.0.1:9/dev"}}))
    env = {"MRKV_RUN_STORE": str(path), "MRKV_ENDPOINTS_FILE": str(endpoints)}
    with serve_dashboard(folder, env) as url, chromium() as browser:
        tab = browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
        small_pairs, large_pairs = pairs(small[:4], args.repeat + 1), pairs(large, args.repeat + 1)
        cold = page_seconds(
            tab, url, small_pairs.pop()
        )  # the server's first script run, the browser's first load
        page_seconds(tab, url, large_pairs.pop())  # warm-up of both
        baseline, big = [], []
        for small_pair, large_pair in zip(
            small_pairs, large_pairs, strict=True
        ):  # interleaved: load hits both
            baseline.append(page_seconds(tab, url, small_pair))
            big.append(page_seconds(tab, url, large_pair))
    size = store.size_bytes()
    return {
        "runs": args.runs, "samples": args.samples, "large_run_samples": args.large, "build_s": build_s,
        "list_s": statistics.median(listed), "list_target_s": LIST_TARGET_S,
        "store_bytes": size, "mb_per_million_samples": size / 1e6 / (args.samples / 1e6),
        "compare_in_process_s": statistics.median(compare_s),
        "compare_page_s": statistics.median(big), "first_page_load_s": cold, "compare_page_baseline_s": statistics.median(baseline),
        "baseline_run_samples": [store.get(x)["samples"] for x in small[:2]],
        "compare_page_runs_s": {"baseline": baseline, "large": big}, "compare_page_target_s": COMPARE_PAGE_TARGET_S,
    }  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--samples", type=int, default=10_000_000, help="samples in the whole store")
    parser.add_argument(
        "--large", type=int, default=1_000_000, help="samples of each of the two compared runs"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--output", default=str(SCRATCH / "run_store.json"), help="figures as JSON ('' to skip)"
    )
    args = parser.parse_args(argv)
    context = run_context()
    with tempfile.TemporaryDirectory(dir=SCRATCH.parent if SCRATCH.parent.exists() else None) as folder:
        figures = measure(args, Path(folder))
    ok = figures["list_s"] <= LIST_TARGET_S and figures["compare_page_s"] <= COMPARE_PAGE_TARGET_S
    figures["ok"] = ok
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps({"run": context, **figures}, indent=2) + "\n")
    print(f"Run store: {args.runs} runs, {args.samples:,} samples (built in {figures['build_s']:.1f} s)")
    print(f"  list every run: {figures['list_s'] * 1000:.1f} ms (target <= {LIST_TARGET_S * 1000:.0f} ms)")
    print(
        f"  size: {figures['mb_per_million_samples']:.1f} MB per million samples ({figures['store_bytes'] / 1e6:,.0f} MB)"
    )
    print(f"  compare two runs of {args.large:,} samples in-process: {figures['compare_in_process_s']:.2f} s")
    print(
        f"  Compare page drawn in Chromium: {figures['compare_page_s']:.2f} s (target <= {COMPARE_PAGE_TARGET_S:.0f} s; "
        f"two ~{figures['baseline_run_samples'][0]:,}-sample runs: {figures['compare_page_baseline_s']:.2f} s)"
    )
    print(("PASS" if ok else "FAIL") + (f"; written to {args.output}" if args.output else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

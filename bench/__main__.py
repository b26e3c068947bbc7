"""``python -m bench`` (``make bench``): every benchmark of the project, each against a baseline in the same run.

    python -m bench [--quick]

Runs the local cloud's benchmarks (``bench/local_cloud/``), then the dashboard's render benchmark
(``bench/dashboard_render.py``), the engine's overhead (``bench/engine_overhead.py``) and the run store at scale
(``bench/run_store.py``: 100 runs, 10 million samples) and what strong consistency costs a write
(``bench/mrsc_latency.py``: MRSC against MREC in one region, realistic network). Exit status 1 if any target is missed.
Only the full run (no ``--quick``) writes into ``bench/results/``; a quick run writes under ``.local/bench/``
(git-ignored), and so does each benchmark run alone (``python -m bench.local_cloud``, …).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from bench.run_context import results_dir

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke runs")
    args = parser.parse_args(argv)
    from bench.local_cloud.cli import main as local_cloud

    folder = results_dir(published=not args.quick)
    status = local_cloud(["--quick"] if args.quick else ["--publish"])
    extra = ["--samples", "10000", "--repeat", "1"] if args.quick else []
    extra += ["--output", str(folder / "dashboard_render.json")]
    status |= subprocess.call([sys.executable, "-m", "bench.dashboard_render", *extra], cwd=ROOT)
    extra = ["--requests", "300", "--count", "200", "--repeats", "1"] if args.quick else []
    extra += ["--out", str(folder / "engine_overhead.json")]
    status |= subprocess.call([sys.executable, "-m", "bench.engine_overhead", *extra], cwd=ROOT)
    extra = ["--runs", "10", "--samples", "200000", "--large", "50000", "--repeat", "1"] if args.quick else []
    extra += ["--output", str(folder / "run_store.json")]
    status |= subprocess.call([sys.executable, "-m", "bench.run_store", *extra], cwd=ROOT)
    extra = ["--writes", "60"] if args.quick else []
    extra += ["--output", str(folder / "mrsc_latency.json")]
    status |= subprocess.call([sys.executable, "-m", "bench.mrsc_latency", *extra], cwd=ROOT)
    return 1 if status else 0


if __name__ == "__main__":
    raise SystemExit(main())

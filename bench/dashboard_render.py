"""How long the Latency page takes to render a large run under AppTest: `python -m bench.dashboard_render`.

The page is rendered from samples already measured (put in the session as a finished run leaves them), so this
times the drawing only: summary, four charts and their serialisation. The baseline is the same page with a small
run, measured in the same process, so the ratio holds on a noisy shared machine where absolute times do not.
Target (issue 5): 100,000 samples render within 2 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.run_context import SCRATCH, run_context

ROOT = Path(__file__).resolve().parent.parent

APP = ROOT / "dashboard" / "app.py"
LATENCY_PAGE = "views/latency.py"
TARGET_S = 2.0


def synthetic_run(samples_per_target: int, targets=("us-west-2", "eu-central-1"), seed: int = 1):
    """A finished latency run in the engine's schema: lognormal latencies, Server-Timing split, 0.5% errors."""
    from dashboard.measure import samples

    rng = np.random.default_rng(seed)
    rows = []
    start = time.time()
    for index, target in enumerate(targets):
        latency = rng.lognormal(np.log(20 + 80 * index), 0.35, samples_per_target)
        failed = rng.random(samples_per_target) < 0.005
        for n in range(samples_per_target):
            ok = not failed[n]
            rows.append(
                {
                    "timestamp": start + n * 0.001,
                    "elapsed_s": n * 0.001,
                    "target": target,
                    "operation": "read",
                    "key": "k",
                    "status": 200 if ok else 0,
                    "ok": ok,
                    "latency_ms": latency[n],
                    "new_connection": n < 4,
                    "server_app_ms": 4.0,
                    "server_db_ms": 2.5,
                    "network_ms": latency[n] - 4.0,
                    "served_region": target,
                    "error": "" if ok else "timeout",
                }
            )
    return samples.to_frame(rows)


def render_once(frame, targets_file: str) -> float:
    """Seconds for one AppTest run of the Latency page holding `frame` as its finished run."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=120)
    # A targets file keeps the local cloud out of the measurement: the page only draws what is stored.
    app.session_state["env_mode"] = "file"
    app.session_state["env_targets_file"] = targets_file
    app.run()
    app.switch_page(LATENCY_PAGE)
    app.session_state["measurements"] = {
        "latency": frame,
        "latency_floors": {"us-west-2": 3.0, "eu-central-1": 95.0},
    }
    began = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - began
    if app.exception:
        raise RuntimeError(f"the page failed: {app.exception[0].message}")
    charts = [e for e in app.main if getattr(e, "type", "") == "plotly_chart"]
    if len(charts) < 4:
        raise RuntimeError(f"expected 4 charts, the page drew {len(charts)}")
    drawn = sum(_points(trace["y"]) for trace in json.loads(charts[2].proto.spec)["data"])
    if drawn != len(frame):
        raise RuntimeError(f"the time series drew {drawn} points for {len(frame)} samples")
    return elapsed


def _points(array) -> int:
    """Length of a plotly array: a JSON list, or a binary one ({"dtype", "bdata"}, base64 of the raw values)."""
    if isinstance(array, list):
        return len(array)
    import base64

    return len(base64.b64decode(array["bdata"])) // np.dtype(array["dtype"]).itemsize


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000, help="samples in the large run (all targets)")
    parser.add_argument("--baseline", type=int, default=1_000, help="samples in the baseline run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--output",
        default=str(SCRATCH / "dashboard_render.json"),
        help="where to write the figures as JSON ('' to skip); make bench's full run passes bench/results/",
    )
    args = parser.parse_args(argv)
    context = run_context()

    with tempfile.TemporaryDirectory() as folder:
        targets_file = Path(folder) / "targets.json"
        # Loopback URLs that are never contacted: rendering stored results sends no request.
        targets_file.write_text(
            json.dumps(
                {"regions": {"us-west-2": "http://127.0.0.1:9/dev", "eu-central-1": "http://127.0.0.1:9/dev"}}
            )
        )
        small = synthetic_run(args.baseline // 2)
        large = synthetic_run(args.samples // 2)
        render_once(small, str(targets_file))  # warm-up: imports, first script compile
        baseline, big = [], []
        for _ in range(args.repeat):  # interleaved, so a burst of load on the machine hits both
            baseline.append(render_once(small, str(targets_file)))
            big.append(render_once(large, str(targets_file)))
    base_s, large_s = statistics.median(baseline), statistics.median(big)
    verdict = "PASS" if large_s <= TARGET_S else "FAIL"
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(
            json.dumps(
                {
                    "run": context,
                    "page": LATENCY_PAGE,
                    "repeat": args.repeat,
                    "baseline_samples": len(small),
                    "samples": len(large),
                    "baseline_render_s": base_s,
                    "render_s": large_s,
                    "ratio_to_baseline": large_s / base_s,
                    "runs_s": {"baseline": baseline, "large": big},
                    "target_s": TARGET_S,
                    "ok": verdict == "PASS",
                },
                indent=2,
            )
            + "\n"
        )
    print(f"Latency page render under AppTest (median of {args.repeat}):")
    print(f"  {len(small):>7,} samples: {base_s:.3f} s (baseline)")
    print(
        f"  {len(large):>7,} samples: {large_s:.3f} s  = {large_s / base_s:.1f}x baseline; "
        f"target <= {TARGET_S:.1f} s: {verdict}"
    )
    if args.output:
        print(f"written to {args.output}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())

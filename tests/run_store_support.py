"""Runs made for the tests of the Compare page and the Map: latency runs with known per-target medians,
recorded through the real ``Recording`` into the test's run store, and an endpoints file without a control API
(the app then needs no local cloud)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from dashboard.measure import samples
from dashboard.measure.runs.context import build_context
from dashboard.measure.runs.recorder import Recording
from dashboard.measure.runs.store import RunStore
from dashboard.measure.targets import TargetSet

REGIONS = {"us-west-2": "http://127.0.0.1:9/dev", "eu-central-1": "http://127.0.0.1:9/dev"}


def endpoints_file(folder) -> str:
    path = folder / "endpoints.json"
    path.write_text(json.dumps({"regions": REGIONS, "global": "http://127.0.0.1:9/dev"}))
    return str(path)


def latency_run(medians: dict[str, float], location: str, per_target: int = 200, name=None, seed=1) -> str:
    """A complete latency run from ``location`` whose target t has median ``medians[t]`` (ms)."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(per_target):
        for target, median in medians.items():
            ok = index % 50 != 7
            rows.append({"timestamp": 1.7e9 + index, "elapsed_s": index * 0.01, "target": target, "operation": "read",
                         "key": "k", "status": 200 if ok else 503, "ok": ok,
                         "latency_ms": median * float(rng.lognormal(0, 0.1)), "error": "" if ok else "HTTP 503"})  # fmt: skip
    frame = samples.to_frame(rows)
    targets = TargetSet(regions=REGIONS, global_url="http://127.0.0.1:9/dev", source="endpoints.json")
    context = build_context(targets, {"count": per_target}, list(medians), location, created_by="test")
    with Recording(RunStore(), "latency", context, name=name) as run:
        run.complete({"samples": frame})
    return run.id


def lag_run(lags_ms: dict[tuple[str, str], list[float]], name=None) -> str:
    """A complete lag run whose pair (source, destination) saw the probes' lags ``lags_ms[pair]`` (ms)."""
    from dashboard.measure.probes.lag import LAG_COLUMNS

    rows = [
        {"probe": index, "timestamp": 1.7e9 + index, "source": source, "destination": destination,
         "status": "seen", "lag_ms": lag, "error": ""}
        for (source, destination), lags in lags_ms.items() for index, lag in enumerate(lags)
    ]  # fmt: skip
    frame = pd.DataFrame(rows).reindex(columns=LAG_COLUMNS)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s", utc=True)
    targets = TargetSet(regions=REGIONS, global_url="http://127.0.0.1:9/dev", source="endpoints.json")
    context = build_context(targets, {"probes": len(rows)}, list(REGIONS), "Seattle", created_by="test")
    with Recording(RunStore(), "lag", context, name=name) as run:
        run.complete({"samples": frame})
    return run.id

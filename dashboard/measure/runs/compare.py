"""Runs side by side: the same figures for the dashboard's Compare page and ``mrkv-probe runs compare``.

``values_of(store, run)`` reduces a run of any kind to ``target, ok, value_ms`` (``VALUE_OF``): latency and
failover: each request's ``latency_ms`` per target; lag: ``lag_ms`` per ``source → destination`` (ok = seen);
conflict: ``converge_ms`` per set of racing regions (ok = converged); ping: each request's first byte per
``<region> new|warm`` (``dashboard.measure.ping_runs``); consistency: each write's ``latency_ms`` per ``MREC|MRSC
<region>``.

``compare(store, references, targets=None)`` gives a ``Comparison``:

* ``runs``: one dict per run (``letter`` A, B, …, ``id``, ``name``, ``kind``, ``label``: the run's context in a
  few words, used as its column's header);
* ``warnings``: what differs between the runs' contexts in a way that changes the meaning (client location,
  network profile or model, environment; and kinds);
* ``table``: one row per (target, figure) for the targets of the first run that the others share (or
  ``targets``); figures ``count``, ``error %`` and the ``p50``, ``p90``, ``p99``, ``max`` of the successful
  values (ms, linear interpolation as ``stats.percentile``); a column per run, then for each later run its
  difference (``B−A``) and ratio (``B/A``) to the first;
* ``ecdf``: per run and target at most ``ECDF_POINTS`` + 1 quantiles (``fraction``, ``value_ms``);
* ``boxes``: per run and target p1, p25, p50, p75, p99 and mean, for box plots drawn from figures.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard.measure.runs.context import location_name, meaning_differences
from dashboard.measure.runs.store import RunStore

FIGURES = ["count", "error %", "p50", "p90", "p99", "max"]
ECDF_POINTS = 400
DECIMALS = 2
VALUE_OF = {
    "latency": ("samples", ["target", "ok", "latency_ms"]),
    "failover": ("samples", ["target", "ok", "latency_ms"]),
    "lag": ("samples", ["source", "destination", "status", "lag_ms"]),
    "conflict": ("results", ["regions", "converged", "converge_ms"]),
    "ping": ("samples", ["target", "ok", "latency_ms"]),
    "consistency": ("samples", ["side", "phase", "region", "op", "ok", "latency_ms"]),
}


@dataclass
class Comparison:
    runs: list[dict]
    warnings: list[str]
    table: pd.DataFrame
    ecdf: pd.DataFrame = field(default_factory=pd.DataFrame)
    boxes: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict:
        table = self.table.reset_index()
        rows = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in table.to_dict("records")
        ]
        return {"runs": self.runs, "warnings": self.warnings, "rows": rows}


def values_of(store: RunStore, run: dict) -> pd.DataFrame:
    frame, columns = VALUE_OF[run["kind"]]
    df = store.frame(run["id"], frame, columns=columns)
    if df.empty:
        return pd.DataFrame({"target": pd.Series(dtype=str), "ok": pd.Series(dtype=bool), "value_ms": []})
    if run["kind"] == "lag":
        target = df["source"].astype(str) + " → " + df["destination"].astype(str)
        return pd.DataFrame({"target": target, "ok": df["status"] == "seen", "value_ms": df["lag_ms"]})
    if run["kind"] == "consistency":  # the write latency per cloud and region (phase "write")
        df = df[(df["phase"] == "write") & (df["op"] == "write")]
        return pd.DataFrame(
            {
                "target": df["side"].astype(str) + " " + df["region"].astype(str),
                "ok": df["ok"].astype(bool),
                "value_ms": df["latency_ms"],
            }
        )
    if run["kind"] == "conflict":
        return pd.DataFrame(
            {
                "target": df["regions"].astype(str),
                "ok": df["converged"].astype(bool),
                "value_ms": df["converge_ms"],
            }
        )
    return pd.DataFrame(
        {"target": df["target"].astype(str), "ok": df["ok"].astype(bool), "value_ms": df["latency_ms"]}
    )


def run_label(run: dict) -> str:
    context = run.get("context") or {}
    network = (context.get("network") or {}).get("profile", "?")
    started = str(run.get("started_at") or "")[:16].replace("T", " ")
    who = run.get("name") or run["id"]
    return f"{who} · {location_name(context)} · {network} · {context.get('environment', '?')} · {started}"


def _quantiles(ordered: np.ndarray, fractions) -> np.ndarray:
    """Quantiles of sorted values by linear interpolation between closest ranks (numpy's default, as
    ``stats.percentile``), without sorting again: one sort per run and target serves every figure."""
    position = np.asarray(fractions, dtype="float64") * (ordered.size - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, ordered.size - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _figures(ordered: np.ndarray, count: int, errors: int) -> dict:
    figures = {"count": float(count), "error %": 100.0 * errors / count if count else math.nan}
    if ordered.size:
        p50, p90, p99 = _quantiles(ordered, [0.5, 0.9, 0.99])
        figures.update({"p50": float(p50), "p90": float(p90), "p99": float(p99), "max": float(ordered[-1])})
    else:
        figures.update({name: math.nan for name in ("p50", "p90", "p99", "max")})
    return figures


def _groups(values: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    codes, names = pd.factorize(values["target"], sort=False)
    v = values["value_ms"].to_numpy(dtype="float64")
    ok = values["ok"].to_numpy(dtype=bool)
    for index, name in enumerate(names):  # a mask per target: a few passes beat sorting a million codes
        chosen = codes == index
        out[str(name)] = (v[chosen], ok[chosen])
    return out


def _ecdf_and_box(letter: str, target: str, ordered: np.ndarray) -> tuple[pd.DataFrame, dict]:
    if not ordered.size:
        return pd.DataFrame(), {}
    fractions = np.linspace(0.0, 1.0, min(ECDF_POINTS, ordered.size) + 1)
    curve = pd.DataFrame(
        {"run": letter, "target": target, "fraction": fractions, "value_ms": _quantiles(ordered, fractions)}
    )
    p1, q1, p50, q3, p99 = _quantiles(ordered, [0.01, 0.25, 0.5, 0.75, 0.99])
    box = {"run": letter, "target": target, "p1": p1, "p25": q1, "p50": p50, "p75": q3, "p99": p99,
           "mean": float(ordered.mean()), "n": int(ordered.size)}  # fmt: skip
    return curve, box


def _table(letters: list[str], figures: dict[str, dict[str, dict]], targets: list[str]) -> pd.DataFrame:
    rows = []
    base = letters[0]
    for target in targets:
        for figure in FIGURES:
            row = {"target": target, "figure": figure}
            for letter in letters:
                row[letter] = figures[letter][target][figure]
            for letter in letters[1:]:
                a, b = row[base], row[letter]
                row[f"{letter}−{base}"] = b - a
                row[f"{letter}/{base}"] = b / a if a else math.nan
            rows.append(row)
    return pd.DataFrame(rows).set_index(["target", "figure"]).round(DECIMALS)


def compare(store: RunStore, references: list[str], targets: list[str] | None = None) -> Comparison:
    if len(references) < 2:
        raise ValueError("compare needs at least two runs")
    if len(references) > len(string.ascii_uppercase):
        raise ValueError("compare takes at most 26 runs")
    runs = [store.get(reference) for reference in references]
    letters = list(string.ascii_uppercase[: len(runs)])
    grouped = {letter: _groups(values_of(store, run)) for letter, run in zip(letters, runs, strict=True)}
    shared = [t for t in grouped[letters[0]] if all(t in grouped[x] for x in letters[1:])]
    chosen = [t for t in (targets or shared) if t in shared]
    if not chosen:
        raise ValueError(
            "the runs share no target" + (f" among {', '.join(targets)}" if targets else "")
            + " (" + "; ".join(f"{x}: {', '.join(grouped[x]) or 'none'}" for x in letters) + ")"
        )  # fmt: skip
    figures, curves, boxes = {}, [], []
    for letter in letters:
        figures[letter] = {}
        for target in chosen:
            values, ok = grouped[letter][target]
            ordered = np.sort(values[ok & ~np.isnan(values)])
            figures[letter][target] = _figures(ordered, values.size, int((~ok).sum()))
            curve, box = _ecdf_and_box(letter, target, ordered)
            curves.append(curve)
            if box:
                boxes.append(box)
    described = [
        {"letter": letter, "id": run["id"], "name": run["name"], "kind": run["kind"], "status": run["status"],
         "label": run_label(run), "context": run["context"]}
        for letter, run in zip(letters, runs, strict=True)
    ]  # fmt: skip
    warnings = meaning_differences({f"{r['letter']}": r["context"] for r in described})
    kinds = {run["kind"] for run in runs}
    if len(kinds) > 1:
        warnings.insert(
            0, f"The runs are of different kinds ({', '.join(sorted(kinds))}): their values differ in kind."
        )
    unfinished = [f"{r['letter']} ({r['status']})" for r in described if r["status"] != "complete"]
    if unfinished:
        warnings.append(f"Not complete: {', '.join(unfinished)}.")
    return Comparison(
        described, warnings, _table(letters, figures, chosen),
        pd.concat([c for c in curves if len(c)], ignore_index=True) if any(len(c) for c in curves) else pd.DataFrame(),
        pd.DataFrame(boxes),
    )  # fmt: skip

"""The distance formula's constants, fitted to the measured medians, and its error on pairs it did not see.

    rtt_ms = fiber_floor_rtt_ms(a, b) × inflation + overhead_ms

fitted by weighted least squares on relative error (each pair's residual divided by its measured median, so a 15 ms
pair counts as much as a 300 ms one), over every unordered pair of distinct regions in the data. The held-out error
comes from a 5-fold cross-validation (pairs shuffled with a fixed seed): each fold's pairs are predicted by constants
fitted on the other four. ``python -m backend.local.network.fit`` prints both; ``model.py`` ships the rounded
constants and ``tests/unit/test_network_fit.py`` checks they are what this fit gives.
"""

from __future__ import annotations

import random
import statistics

from backend.local.network.measured import pair_medians
from backend.local.network.places import REGIONS, fiber_floor_rtt_ms

FOLDS = 5
SEED = 14


def training_pairs() -> list[tuple[str, str, float, float]]:
    """(a, b, fiber floor ms, measured median ms) for each unordered pair of distinct regions we have both for."""
    rows = []
    for (a, b), median in sorted(pair_medians().items()):
        if a < b and a in REGIONS and b in REGIONS:
            rows.append((a, b, fiber_floor_rtt_ms(a, b), median))
    return rows


def fit(rows) -> tuple[float, float]:
    """(inflation, overhead_ms) minimising the sum of squared relative errors."""
    sw = swx = swxx = swy = swxy = 0.0
    for *_, floor, median in rows:
        w = 1.0 / (median * median)
        sw, swx, swxx = sw + w, swx + w * floor, swxx + w * floor * floor
        swy, swxy = swy + w * median, swxy + w * floor * median
    determinant = swxx * sw - swx * swx
    inflation = (swxy * sw - swx * swy) / determinant
    overhead = (swxx * swy - swx * swxy) / determinant
    return inflation, overhead


def relative_errors(rows, inflation: float, overhead: float) -> list[float]:
    """(predicted - measured) / measured for each row."""
    return [(floor * inflation + overhead - median) / median for *_, floor, median in rows]


def cross_validated_errors(rows, folds: int = FOLDS, seed: int = SEED) -> list[float]:
    """Each pair's relative error when predicted by constants fitted without its fold."""
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    errors = []
    for fold in range(folds):
        held_out = shuffled[fold::folds]
        kept = [row for i, row in enumerate(shuffled) if i % folds != fold]
        errors += relative_errors(held_out, *fit(kept))
    return errors


def summary(errors: list[float]) -> dict:
    """Median, p90 and max of |error|, and the mean signed error, in percent."""
    absolute = sorted(abs(e) for e in errors)
    return {
        "pairs": len(errors),
        "median_abs_pct": round(100 * statistics.median(absolute), 1),
        "p90_abs_pct": round(100 * absolute[int(0.9 * (len(absolute) - 1))], 1),
        "max_abs_pct": round(100 * absolute[-1], 1),
        "mean_pct": round(100 * statistics.fmean(errors), 1),
    }


def report() -> dict:
    rows = training_pairs()
    inflation, overhead = fit(rows)
    return {
        "inflation": inflation,
        "overhead_ms": overhead,
        "in_sample": summary(relative_errors(rows, inflation, overhead)),
        "held_out": summary(cross_validated_errors(rows)),
        "old_formula_1.5x_plus_5ms": summary(relative_errors(rows, 1.5, 5.0)),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(report(), indent=2))

"""Measured tails between AWS regions: cloudping's p50 and p90 for every pair, and the tail each pair samples from.

``data/aws-ping-p50-p90-1y.json`` holds one snapshot of both matrices (``SOURCE``). Each row is measured *from* a
region, so a pair has two p90/p50 ratios, one per direction: the range the data shows for the pair. The pair's tail
(``pair_tail``) has the mean of the two as its p90/p50, so its p90 lies in that range; its p50 stays the pair's
median wherever that comes from (``model.py``). Pairs the data lacks get ``tails.fallback_p90_ratio``, whose two
constants ``fit_fallback`` fits here; ``python -m backend.local.network.tail_data`` prints the fit and its error.
"""

from __future__ import annotations

import functools
import json
import statistics

from backend.local.network import measured, tails

DATA_FILE = measured.DATA_FILE.with_name("aws-ping-p50-p90-1y.json")

# The same measurements as measured.SOURCE (cloudping: TCP connect, Lambda in each region -> DynamoDB endpoints),
# served by cloudping-api/app.py as percentiles over the timeframe (numpy.percentile of the 6-hourly 5-connect
# averages, scheduled_functions/chalicelib/calculate_avgs.py); a different snapshot.
SOURCE = dict(
    measured.SOURCE,
    copied="2026-12-01, values verbatim",
    what="p50 and p90 over one year of the TCP connect time from a Lambda function in each region to every "
    "region's public DynamoDB endpoint (dynamodb.<region>.amazonaws.com:443)",
    upstream="https://www.cloudping.co/api/latencies?percentile=p_90&timeframe=1Y (and p_50)",
    snapshot="github.com/commonwarexyz/monorepo, examples/simulator/src/p50.json and p90.json, "
    "commit 9a5a5c13f5f22f2363cb6b8a86c2dd697e8b182a (undated; it includes ap-east-2, Taipei, opened in 2025)",
)


@functools.cache
def _matrices() -> tuple[dict, dict]:
    document = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return document["p_50"], document["p_90"]


@functools.cache
def direction_ratios() -> dict[tuple[str, str], tuple[float, float]]:
    """{(a, b): (p90/p50 measured from a, p90/p50 measured from b)} for every unordered pair, a <= b."""
    p50, p90 = _matrices()
    return {
        (a, b): (p90[a][b] / p50[a][b], p90[b][a] / p50[b][a])
        for a in p50
        for b in p50[a]
        if a <= b and b in p50 and a in p50[b]
    }


def cited_range(a: str, b: str) -> tuple[float, float] | None:
    """(lowest, highest) p90/p50 the data shows for the pair (its two directions), or None."""
    ratios = direction_ratios().get((min(a, b), max(a, b)))
    return (min(ratios), max(ratios)) if ratios else None


@functools.cache
def _measured_tail(a: str, b: str) -> tails.Tail | None:
    ratios = direction_ratios().get((a, b))
    return tails.from_p90_ratio(statistics.fmean(ratios)) if ratios else None


def pair_tail(a: str, b: str, median_ms: float) -> tails.Tail:
    """The tail between regions ``a`` and ``b`` (codes): fitted to the pair's measured p90, else the fallback."""
    return _measured_tail(min(a, b), max(a, b)) or tails.from_p90_ratio(tails.fallback_p90_ratio(median_ms))


def _rows() -> list[tuple[float, float]]:
    """(median ms, p90/p50) per unordered pair of distinct regions, both directions averaged."""
    p50, _ = _matrices()
    return [
        ((p50[a][b] + p50[b][a]) / 2, statistics.fmean(ratios))
        for (a, b), ratios in sorted(direction_ratios().items())
        if a != b
    ]


def fit_fallback() -> tuple[float, float]:
    """(excess ms, excess fraction) minimising the squared error of p90/p50 = 1 + ms / median + fraction."""
    rows = _rows()
    xs, ys = [1 / median for median, _ in rows], [ratio - 1 for _, ratio in rows]
    slope, intercept = statistics.linear_regression(xs, ys)
    return slope, intercept


def report() -> dict:
    """The fallback's fit and its error on the measured pairs, and how often it lands in a pair's cited range."""
    rows, (excess_ms, fraction) = _rows(), fit_fallback()
    errors = sorted(abs(1 + excess_ms / median + fraction - ratio) for median, ratio in rows)
    inside = sum(
        lo <= tails.fallback_p90_ratio(median) <= hi
        for (median, _), (lo, hi) in zip(
            rows, (cited_range(a, b) for (a, b) in sorted(direction_ratios()) if a != b), strict=True
        )
    )
    return {
        "pairs": len(rows),
        "excess_ms": excess_ms,
        "excess_fraction": fraction,
        "median_abs_error": round(statistics.median(errors), 4),
        "p90_abs_error": round(errors[int(0.9 * (len(errors) - 1))], 4),
        "shipped_inside_cited_range": inside,
    }


if __name__ == "__main__":
    print(json.dumps(report(), indent=2))

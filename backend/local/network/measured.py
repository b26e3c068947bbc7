"""Measured round trips between AWS regions: the shipped data file, read once.

``data/aws-ping-p50-1y.json`` is a verbatim copy of a public snapshot of cloudping.co's one-year median (p50) matrix
(``SOURCE`` says where from and how it was measured). Each row is measured *from* a region (a Lambda function there
opens TCP connections to ``dynamodb.<to>.amazonaws.com:443``), so A→B and B→A are two measurements of one path; they
differ by 0.9 % at the median, 21 % at worst (``direction_spread``). The pair's median used everywhere is their mean; a region to itself is
the intra-region figure (1-9 ms).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "aws-ping-p50-1y.json"

SOURCE = {
    "what": "median (p50) TCP connect time over one year, from a Lambda function in each region to every region's "
    "public DynamoDB endpoint (dynamodb.<region>.amazonaws.com:443)",
    "measured_by": "cloudping.co (code: github.com/mda590/cloudping.co, ping_from_region/app.py)",
    "upstream": "https://www.cloudping.co/api/latencies?percentile=p_50&timeframe=1Y",
    "snapshot": "github.com/oaustegard/oaustegard.github.io, web-utilities/aws-ping-p50-1y.json, "
    "commit 4a1414dbf7163c4299fa201d140d3d9e00133544 (2025)",
    "copied": "2026-12-01, verbatim",
}


@functools.cache
def _matrix() -> dict[str, dict[str, float]]:
    document = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    if document.get("metadata", {}).get("percentile") != "p_50":
        raise ValueError(f"{DATA_FILE} is not a p50 matrix")
    return {src: {dst: float(ms) for dst, ms in row.items()} for src, row in document["data"].items()}


@functools.cache
def pair_medians() -> dict[tuple[str, str], float]:
    """{(a, b): median RTT ms} for every ordered pair the data covers (a == b included), symmetric."""
    matrix = _matrix()
    pairs: dict[tuple[str, str], float] = {}
    for a, row in matrix.items():
        for b, there in row.items():
            back = matrix.get(b, {}).get(a)
            pairs[(a, b)] = there if back is None else (there + back) / 2
    return pairs


def measured_regions() -> list[str]:
    return sorted(_matrix())


def measured_rtt_ms(a: str, b: str) -> float | None:
    """The pair's measured median RTT (ms), or None when the data lacks the pair."""
    return pair_medians().get((a, b))


def direction_spread() -> float:
    """The largest relative difference between the two directions of one pair (inter-region pairs)."""
    matrix = _matrix()
    return max(
        abs(row[b] - matrix[b][a]) / min(row[b], matrix[b][a])
        for a, row in matrix.items()
        for b in row
        if a != b and a in matrix.get(b, {})
    )

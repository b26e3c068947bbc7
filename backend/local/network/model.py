"""Round trips and replication delays: measured medians where we have them, a fitted distance formula elsewhere,
heavy-tailed samples around the median. Pure (no I/O); the randomness comes from an injectable ``random.Random``.

The median round trip of a pair (``modelled_rtt_ms``), in order of preference:

1. a client whose own measurements are loaded (``Location.measured``, from ``mrkv-probe ping``): its median to
   that region;
2. two regions (region codes, ``Region`` objects, or a client placed in a region, ``--client-location us-east-1``):
   the measured one-year median for the pair (``measured.py``, cloudping);
3. anything else (a client city or coordinates; a region the data lacks): the distance formula
   ``fiber floor × ROUTE_INFLATION + FIXED_OVERHEAD_MS``, its constants fitted to the measured pairs (``fit.py``:
   held-out median |error| 13.9 %, p90 34.5 %).

Samples (``LatencyModel.rtt_ms``) are drawn around that median from a shifted log-normal (``tails.py``): between
regions the pair's tail fitted to its measured p90 (``tail_data.py``), the access tail from a client city, the
client's own fitted tail when calibrated.
Replication delay = one-way median (RTT / 2) + ``REPLICATION_PROCESSING_MS``; see docs/NETWORK-MODEL.md for the
AWS figures it is calibrated to.
"""

from __future__ import annotations

import random

from backend.local.network import tails
from backend.local.network.measured import measured_rtt_ms
from backend.local.network.places import fiber_floor_rtt_ms, region, region_code
from backend.local.network.tail_data import pair_tail

# Fitted by fit.py on the 496 inter-region pairs of the shipped data (1.6234, 5.8865), rounded.
ROUTE_INFLATION = 1.62
FIXED_OVERHEAD_MS = 5.9
# AWS: global tables replicate "typically within a second" (DynamoDB developer guide), "typical latency of between
# 0.5 - 2.5 seconds between AWS Regions in the same geographic area" (AWS, community.aws, 2023): 500 ms of
# processing keeps a nearby pair at ~0.5 s and the farthest pair (~420 ms RTT) within a second.
REPLICATION_PROCESSING_MS = 500.0
DEFAULT_JITTER_FRACTION = None  # None: heavy-tailed samples (tails.py); a number: uniform ± that fraction (legacy)

NETWORK_MODES = ("realistic", "none")


def check_mode(mode: str) -> str:
    if mode not in NETWORK_MODES:
        raise ValueError(f"Unknown network mode {mode!r}; use one of: {', '.join(NETWORK_MODES)}.")
    return mode


def formula_rtt_ms(a, b) -> float:
    """The fitted distance formula: the fiber floor inflated by real-world routing, plus a fixed overhead."""
    return fiber_floor_rtt_ms(a, b) * ROUTE_INFLATION + FIXED_OVERHEAD_MS


def _calibrated(client, other):
    """(median, tail) from the client's own measurements to ``other``'s region, or None."""
    measured = getattr(client, "measured", None)
    code = region_code(other) if measured else None
    return measured.get(code) if code else None


def median_and_tail(a, b) -> tuple[float, tails.Tail, str]:
    """The pair's median RTT (ms), the tail samples follow, and where the median comes from."""
    for client, other in ((a, b), (b, a)):
        calibrated = _calibrated(client, other)
        if calibrated is not None:
            return float(calibrated[0]), calibrated[1], "calibrated"
    code_a, code_b = region_code(a), region_code(b)
    if code_a and code_b:
        median = measured_rtt_ms(code_a, code_b)
        source = "measured" if median is not None else "formula"
        if median is None:
            median = formula_rtt_ms(region(code_a), region(code_b))
        return median, pair_tail(code_a, code_b, median), source
    return formula_rtt_ms(a, b), tails.ACCESS, "formula"


def modelled_rtt_ms(a, b) -> float:
    """The pair's median RTT (ms), without jitter: calibrated, measured, or the fitted formula (module doc)."""
    return median_and_tail(a, b)[0]


def rtt_source(a, b) -> str:
    """Where the pair's median comes from: "calibrated", "measured" or "formula"."""
    return median_and_tail(a, b)[2]


def rtt_percentiles_ms(a, b) -> dict[str, float]:
    """The model's p50, p90 and p99 round trip for the pair (exact quantiles of its distribution)."""
    median, tail, _ = median_and_tail(a, b)
    return {name: tail.quantile(median, q) for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))}


def region_rtt_ms(region_a: str, region_b: str) -> float:
    """Median RTT between two regions (by code): measured where the data has the pair, else the fitted formula."""
    return modelled_rtt_ms(region(region_a).code, region(region_b).code)


def replication_delay_ms(src_region: str, dst_region: str, mode: str = "realistic") -> float:
    """How long global tables take to land a write from src in dst: one way + processing; 0 with network "none"."""
    if check_mode(mode) == "none":
        return 0.0
    return region_rtt_ms(src_region, dst_region) / 2 + REPLICATION_PROCESSING_MS


class LatencyModel:
    """Sampled RTTs around the modelled median, or no delay at all in mode "none".

    ``jitter_fraction`` None (the default) draws from the pair's heavy tail; a number in [0, 1) draws uniformly
    within ± that fraction of the median instead, never below the fiber floor (0: always the median). ``rng`` (or
    ``seed``) makes the samples reproducible."""

    def __init__(
        self,
        mode: str = "realistic",
        jitter_fraction: float | None = DEFAULT_JITTER_FRACTION,
        rng: random.Random | None = None,
        seed: int | None = None,
    ):
        if jitter_fraction is not None and (
            isinstance(jitter_fraction, bool)
            or not isinstance(jitter_fraction, (int, float))
            or not 0 <= jitter_fraction < 1
        ):
            raise ValueError(f"jitter_fraction must be null or in [0, 1), got {jitter_fraction!r}.")
        self.mode = check_mode(mode)
        self.jitter_fraction = jitter_fraction
        self._rng = rng or random.Random(seed)

    def with_mode(self, mode: str) -> LatencyModel:
        """The same model (jitter, random sequence) in another mode."""
        return LatencyModel(mode, self.jitter_fraction, rng=self._rng)

    def rtt_ms(self, a, b) -> float:
        """One sampled RTT."""
        if self.mode == "none":
            return 0.0
        median, tail, _ = median_and_tail(a, b)
        if self.jitter_fraction is None:
            return tail.sample(median, self._rng)
        jittered = median * (1 + self._rng.uniform(-self.jitter_fraction, self.jitter_fraction))
        return max(fiber_floor_rtt_ms(a, b), jittered)

    def minimum_ms(self, a, b) -> float:
        """The least a sample can be (the tail's floor, or the jitter's low end)."""
        if self.mode == "none":
            return 0.0
        median, tail, _ = median_and_tail(a, b)
        if self.jitter_fraction is None:
            return median * tail.floor_fraction
        return max(fiber_floor_rtt_ms(a, b), median * (1 - self.jitter_fraction))


def nearest_regions(client, region_codes) -> list[str]:
    """Region codes ordered by modelled RTT from the client (ties broken by code), nearest first."""
    return sorted(region_codes, key=lambda code: (modelled_rtt_ms(client, region(code)), code))

"""Heavy-tailed round trips: a shifted log-normal around a pair's median.

    rtt = median × (floor_fraction + (1 − floor_fraction) × exp(sigma × Z)),   Z ~ N(0, 1)

The median is the pair's median exactly (exp(0) = 1); ``floor_fraction`` × median is the fixed part no sample goes
below (propagation along the route); the rest is a log-normal queueing part whose right tail makes p99 ≫ p90 − p50.
Quantiles have a closed form (``quantile``), so the model's p50/p90/p99 are exact, not sampled. Samples come from a
``random.Random`` the caller owns: seed it for a reproducible demo.

Between regions each pair's tail is fitted to cloudping's measured p90/p50 for that pair (``tail_data.py``,
``from_p90_ratio``: sigma fixed at ``SHAPE_SIGMA``, the floor set so the p90 matches); pairs the data lacks use
``fallback_p90_ratio``, fitted to the same data by median. ``from_measurements`` fits a tail to a user's own ping run
(the floor at its minimum, sigma from its p90). docs/NETWORK-MODEL.md §3 gives the data, fits and errors.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from statistics import NormalDist

_Z = NormalDist()


@dataclass(frozen=True)
class Tail:
    floor_fraction: float
    sigma: float

    def __post_init__(self):
        if not (0 <= self.floor_fraction < 1 and 0 <= self.sigma <= 3):
            raise ValueError(f"a tail needs floor_fraction in [0, 1) and sigma in [0, 3], got {self}")

    def quantile(self, median_ms: float, q: float) -> float:
        """The q-quantile (0 < q < 1) of the round trip for a pair with this median."""
        return median_ms * (self.floor_fraction + (1 - self.floor_fraction) * math.exp(self.sigma * _Z.inv_cdf(q)))

    def ratio(self, q: float) -> float:
        """quantile / median: e.g. ratio(0.99) is p99/p50."""
        return self.quantile(1.0, q)

    def sample(self, median_ms: float, rng: random.Random) -> float:
        return median_ms * (self.floor_fraction + (1 - self.floor_fraction) * rng.lognormvariate(0.0, self.sigma))

    def to_json(self) -> dict:
        return {"floor_fraction": round(self.floor_fraction, 4), "sigma": round(self.sigma, 4)}


def from_ratios(floor_fraction: float, p90_over_p50: float) -> Tail:
    """The tail with this floor whose p90 is ``p90_over_p50`` × the median (no spread when the ratio is <= 1)."""
    spread = (p90_over_p50 - floor_fraction) / (1 - floor_fraction)
    sigma = math.log(spread) / _Z.inv_cdf(0.9) if spread > 1 else 0.0
    return Tail(floor_fraction, min(sigma, 3.0))


def from_measurements(minimum_ms: float, p50_ms: float, p90_ms: float) -> Tail:
    """A tail fitted to measured figures: the floor at the minimum seen, sigma so that p90 matches."""
    if p50_ms <= 0:
        return Tail(0.0, 0.0)
    floor_fraction = min(max(minimum_ms / p50_ms, 0.0), 0.99)
    return from_ratios(floor_fraction, p90_ms / p50_ms)


# The log-normal part's shape between regions. Only p50 and p90 are published per pair, so one of the two parameters
# is fixed: sigma, at the value of the earlier hand-set backbone tail. It fixes how far p99 reaches beyond p90:
# p99 - p50 = P99_OVER_P90_EXCESS x (p90 - p50) for every pair whose floor is above zero. No public p99 data backs it.
SHAPE_SIGMA = 0.2626
_Z90, _Z99 = _Z.inv_cdf(0.9), _Z.inv_cdf(0.99)
P99_OVER_P90_EXCESS = math.expm1(SHAPE_SIGMA * _Z99) / math.expm1(SHAPE_SIGMA * _Z90)

# Pairs without measured percentiles: p90 / p50 = 1 + FALLBACK_EXCESS_MS / median + FALLBACK_EXCESS_FRACTION, i.e. the
# p90 lies ~3 ms + 2.7 % above the median (tail_data.fit_fallback, least squares over the measured pairs).
FALLBACK_EXCESS_MS = 3.07
FALLBACK_EXCESS_FRACTION = 0.027


def from_p90_ratio(p90_over_p50: float, sigma: float = SHAPE_SIGMA) -> Tail:
    """The tail with this sigma whose p90 is ``p90_over_p50`` x the median: the floor is what is left.

    When even a zero floor cannot reach that p90 with this sigma (p90 more than ~1.4 x p50), the floor is zero and
    sigma grows instead."""
    excess = p90_over_p50 - 1
    if excess <= 0:
        return Tail(0.0, 0.0)
    floor_fraction = 1 - excess / math.expm1(sigma * _Z90)
    if floor_fraction < 0:
        return from_ratios(0.0, p90_over_p50)
    return Tail(floor_fraction, sigma)


def fallback_p90_ratio(median_ms: float) -> float:
    """p90 / p50 for a pair of regions the percentile data lacks, from its median (ms)."""
    return 1 + FALLBACK_EXCESS_MS / max(median_ms, 1.0) + FALLBACK_EXCESS_FRACTION


# From a client city over the public Internet (access network, peering): floor at 85 %, p90 = 1.10 x p50
# (so p99 ~ 1.23 x p50). Not fitted: no public per-city percentile data was found (docs/NETWORK-MODEL.md §3).
ACCESS = from_ratios(0.85, 1.10)

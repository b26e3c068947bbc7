"""Tails between regions against the cited percentile data (cloudping's p50 and p90 per pair, one snapshot).

For every pair in the data: the model's p50 is the pair's shipped median, its p90/p50 lies within the range the
data shows for the pair (the ratios measured from either end), exactly and in seeded samples. The data has no
p99: the model's p99/p50 is an extrapolation (tails.SHAPE_SIGMA), checked here only for what the docs say of it.
"""

import json
import math
import random
import statistics

import pytest

from backend.local import network
from backend.local.network import measured, tail_data, tails
from backend.local.network.model import LatencyModel, median_and_tail

SAMPLES = 4000
SEED = 14
_Z = statistics.NormalDist()


def _sample_quantile(sorted_samples, q):
    return sorted_samples[int(q * len(sorted_samples))]


def _standard_error(tail: tails.Tail, q: float, n: int) -> float:
    """Asymptotic standard error of the sampled q-quantile / median (tail quantile density at q)."""
    z = _Z.inv_cdf(q)
    if tail.sigma == 0:
        return 0.0
    slope = (1 - tail.floor_fraction) * tail.sigma * math.exp(tail.sigma * z)  # d quantile / d z
    return slope * math.sqrt(q * (1 - q) / n) / _Z.pdf(z)


def test_the_percentile_file_is_one_snapshot_of_both_matrices_and_agrees_with_the_shipped_p50():
    document = json.loads(tail_data.DATA_FILE.read_text())
    assert document["metadata"]["percentiles"] == ["p_50", "p_90"]
    p50, p90 = document["p_50"], document["p_90"]
    assert set(p50) == set(p90) and len(p50) == 33
    for src in p50:
        assert set(p50[src]) == set(p90[src]) == set(p50), src
        assert all(p90[src][dst] >= p50[src][dst] > 0 for dst in p50[src]), src
    assert "9a5a5c1" in tail_data.SOURCE["snapshot"]
    # the same measurements as the shipped p50 file: per direction, the medians agree to 0.23 % (median |difference|)
    shipped = json.loads(measured.DATA_FILE.read_text())["data"]
    drift = [abs(p50[a][b] / ms - 1) for a, row in shipped.items() for b, ms in row.items() if a != b]
    assert len(drift) == 992 and statistics.median(drift) < 0.005


def test_every_pair_s_modelled_p90_lies_in_the_cited_range_and_its_p50_on_the_shipped_median():
    checked = 0
    for a, b in tail_data.direction_ratios():
        lo, hi = tail_data.cited_range(a, b)
        figures = network.rtt_percentiles_ms(a, b)
        assert lo - 1e-9 <= figures["p90"] / figures["p50"] <= hi + 1e-9, (a, b)
        assert figures["p50"] == pytest.approx(network.modelled_rtt_ms(a, b))
        if measured.measured_rtt_ms(a, b) is not None:
            assert figures["p50"] == pytest.approx(measured.measured_rtt_ms(a, b))
        checked += 1
    assert checked == 528 + 33  # every unordered pair of the 33 regions, and each region to itself


def test_seeded_samples_of_every_pair_show_the_cited_p90_and_the_stated_p99():
    rng = random.Random(SEED)
    outside = []
    for a, b in tail_data.direction_ratios():
        lo, hi = tail_data.cited_range(a, b)
        median, tail, _ = median_and_tail(a, b)
        samples = sorted(tail.sample(median, rng) for _ in range(SAMPLES))
        p50 = _sample_quantile(samples, 0.5)
        tolerance = 4 * (_standard_error(tail, 0.9, SAMPLES) + _standard_error(tail, 0.5, SAMPLES))
        if not lo - tolerance <= _sample_quantile(samples, 0.9) / p50 <= hi + tolerance:
            outside.append((a, b))
        stated = tail.ratio(0.99)
        p99_tolerance = 4 * (_standard_error(tail, 0.99, SAMPLES) + _standard_error(tail, 0.5, SAMPLES))
        assert _sample_quantile(samples, 0.99) / p50 == pytest.approx(stated, abs=p99_tolerance), (a, b)
    assert not outside


def test_the_model_itself_samples_those_tails_for_pairs_across_continents():
    pairs = [
        ("us-east-1", "eu-west-1"), ("us-west-2", "ap-northeast-1"), ("eu-central-1", "ap-south-1"),
        ("sa-east-1", "us-east-1"), ("ap-southeast-2", "us-west-2"), ("af-south-1", "eu-west-2"),
        ("me-central-1", "ap-southeast-1"), ("ca-central-1", "eu-north-1"), ("il-central-1", "us-east-2"),
        ("ap-northeast-2", "eu-west-3"), ("mx-central-1", "sa-east-1"), ("eu-west-1", "eu-central-1"),
    ]
    model = LatencyModel(seed=SEED)
    for a, b in pairs:
        lo, hi = tail_data.cited_range(a, b)
        samples = sorted(model.rtt_ms(a, b) for _ in range(SAMPLES))
        _, tail, _ = median_and_tail(a, b)
        tolerance = 4 * (_standard_error(tail, 0.9, SAMPLES) + _standard_error(tail, 0.5, SAMPLES))
        ratio = _sample_quantile(samples, 0.9) / _sample_quantile(samples, 0.5)
        assert lo - tolerance <= ratio <= hi + tolerance, (a, b, ratio, lo, hi)


def test_p99_reaches_a_fixed_multiple_of_the_p90_excess_where_the_floor_is_above_zero():
    assert tails.P99_OVER_P90_EXCESS == pytest.approx(2.105, abs=0.001)
    tail = tail_data.pair_tail("us-east-1", "eu-west-1", 69.6)
    assert tail.sigma == tails.SHAPE_SIGMA and tail.floor_fraction > 0
    assert tail.ratio(0.99) - 1 == pytest.approx(tails.P99_OVER_P90_EXCESS * (tail.ratio(0.9) - 1))
    # a p90 beyond what sigma can reach above a zero floor: the floor is zero and sigma grows
    wide = tails.from_p90_ratio(1.8)
    assert wide.floor_fraction == 0 and wide.sigma > tails.SHAPE_SIGMA and wide.ratio(0.9) == pytest.approx(1.8)
    assert tails.from_p90_ratio(1.0) == tails.Tail(0.0, 0.0)


def test_the_fallback_for_pairs_without_percentiles_is_what_the_fit_gives_and_what_the_docs_say():
    excess_ms, fraction = tail_data.fit_fallback()
    assert tails.FALLBACK_EXCESS_MS == pytest.approx(excess_ms, abs=0.005)
    assert tails.FALLBACK_EXCESS_FRACTION == pytest.approx(fraction, abs=0.0005)
    report = tail_data.report()
    # docs/NETWORK-MODEL.md §3 quotes these; re-run python -m backend.local.network.tail_data after a data change
    assert report["pairs"] == 528
    assert report["median_abs_error"] == pytest.approx(0.018, abs=0.0005)
    assert report["p90_abs_error"] == pytest.approx(0.040, abs=0.0005)
    # a region the percentile data lacks: the fallback, from the pair's modelled median
    assert tail_data.cited_range("us-east-1", "ap-southeast-6") is None
    figures = network.rtt_percentiles_ms("us-east-1", "ap-southeast-6")
    assert figures["p90"] / figures["p50"] == pytest.approx(tails.fallback_p90_ratio(figures["p50"]))

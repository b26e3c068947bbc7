"""The shipped measurements, the fitted distance formula and its held-out error, the tails and the calibration."""

import json

import pytest

from backend.local import network
from backend.local.network import calibration, fit, measured, tails


def test_the_data_file_is_the_cited_p50_matrix_for_every_pair_it_names():
    document = json.loads(measured.DATA_FILE.read_text())
    assert document["metadata"] == {"percentile": "p_50", "timeframe": "1Y", "unit": "milliseconds"}
    rows = document["data"]
    assert len(rows) == 32
    for src, row in rows.items():
        assert set(row) == set(rows), src  # every pair in both directions, itself included
        assert all(0 < ms < 500 for ms in row.values())
    assert set(rows) <= set(network.REGIONS)
    assert set(network.REGIONS) - set(rows) == {"ap-east-2", "ap-southeast-6"}  # newer than the snapshot
    assert "cloudping" in measured.SOURCE["measured_by"] and "4a1414d" in measured.SOURCE["snapshot"]


def test_the_two_directions_of_a_pair_agree_and_the_pair_median_is_their_mean():
    pairs = measured.pair_medians()
    assert pairs[("eu-west-1", "us-east-1")] == pairs[("us-east-1", "eu-west-1")]
    assert measured.direction_spread() < 0.25


def test_shipped_constants_are_what_the_fit_gives():
    inflation, overhead = fit.fit(fit.training_pairs())
    assert network.ROUTE_INFLATION == pytest.approx(inflation, abs=0.005)
    assert network.FIXED_OVERHEAD_MS == pytest.approx(overhead, abs=0.05)


def test_held_out_error_is_what_the_docs_say():
    report = fit.report()
    held_out = report["held_out"]
    assert held_out["pairs"] == 496
    # docs/NETWORK-MODEL.md quotes these figures; re-run python -m backend.local.network.fit after a data change
    assert held_out["median_abs_pct"] == pytest.approx(13.9, abs=0.05)
    assert held_out["p90_abs_pct"] == pytest.approx(34.5, abs=0.05)
    # unbiased-ish, and less biased than the old hand-set formula (1.5x + 5 ms: -12.4 % on average)
    assert abs(held_out["mean_pct"]) < abs(report["old_formula_1.5x_plus_5ms"]["mean_pct"])


def test_the_access_tail_has_its_stated_ratios():
    tail = tails.ACCESS
    assert tail.quantile(100.0, 0.5) == pytest.approx(100.0)
    assert tail.ratio(0.9) == pytest.approx(1.10)
    assert 1.0 < tail.ratio(0.9) < tail.ratio(0.99)


def test_a_tail_fitted_to_measurements_reproduces_them():
    fitted = tails.from_measurements(minimum_ms=40.0, p50_ms=50.0, p90_ms=60.0)
    assert fitted.floor_fraction == pytest.approx(0.8)
    assert fitted.quantile(50.0, 0.9) == pytest.approx(60.0)
    assert tails.from_measurements(50.0, 50.0, 50.0).sigma == 0.0


def _run(regions, client="Frankfurt"):
    return {"kind": calibration.RUN_KIND, "client_location": client, "regions": regions}


def _warm(p50, p90=None, low=None):
    return {"warm": {"first_byte_ms": {"min": low or p50 * 0.9, "p50": p50, "p90": p90 or p50 * 1.1}}}


def test_a_calibrated_client_uses_its_own_medians_and_the_model_elsewhere(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(_run({"us-east-1": _warm(40.0), "eu-west-1": _warm(80.0), "bogus-1": _warm(1)})))
    client = network.parse_location(f"ping:{path}")
    assert client.measured.keys() == {"us-east-1", "eu-west-1"}
    assert network.modelled_rtt_ms(client, network.REGIONS["us-east-1"]) == 40.0
    assert network.rtt_source(client, network.REGIONS["eu-west-1"]) == "calibrated"
    frankfurt = network.parse_location("Frankfurt")
    assert network.modelled_rtt_ms(client, network.REGIONS["ap-south-1"]) == pytest.approx(
        network.modelled_rtt_ms(frankfurt, network.REGIONS["ap-south-1"])
    )
    assert network.nearest_regions(client, ["eu-west-1", "us-east-1"]) == ["us-east-1", "eu-west-1"]
    assert network.absolute_location("ping:run.json").startswith("ping:/")


@pytest.mark.parametrize(
    "content, message",
    [("{", "not valid JSON"), ('{"kind": "other"}', "not a 'mrkv-probe ping' run"), (None, "cannot read")],
)
def test_a_bad_ping_run_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=message):
        network.parse_location(f"ping:{path}")
    path.write_text(json.dumps(_run({"us-east-1": {"warm": {}}})))
    with pytest.raises(ValueError, match="nothing to calibrate"):
        network.parse_location(f"ping:{path}")

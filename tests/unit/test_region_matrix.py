"""Region x region matrices (dashboard.measure.matrix) and their banded heat map (dashboard.charts.matrix)."""

import math

import numpy as np
import pandas as pd

from backend.local import network
from dashboard.charts.matrix import LAG_LIMITS, band_labels, region_matrix
from dashboard.measure import matrix

REGIONS = ["us-west-2", "eu-central-1", "ap-northeast-1"]


def test_modelled_round_trips_are_the_network_models_symmetric_with_an_empty_diagonal():
    rtt = matrix.modelled_rtt(REGIONS)
    assert list(rtt.index) == REGIONS and list(rtt.columns) == REGIONS
    assert all(math.isnan(rtt.loc[r, r]) for r in REGIONS)
    assert rtt.loc["us-west-2", "eu-central-1"] == network.region_rtt_ms("us-west-2", "eu-central-1")
    assert np.allclose(rtt.to_numpy(), rtt.T.to_numpy(), equal_nan=True)


def test_lag_percentile_per_pair_from_seen_probes_only():
    lags = pd.DataFrame(
        {
            "source": ["us-west-2"] * 5 + ["eu-central-1"],
            "destination": ["eu-central-1"] * 5 + ["us-west-2"],
            "status": ["seen", "seen", "seen", "timeout", "seen", "seen"],
            "lag_ms": [100.0, 200.0, 300.0, math.nan, 400.0, 50.0],
        }
    )
    p50 = matrix.lag_percentile(lags, REGIONS, "p50")
    assert p50.loc["us-west-2", "eu-central-1"] == 250.0 and p50.loc["eu-central-1", "us-west-2"] == 50.0
    assert math.isnan(p50.loc["us-west-2", "ap-northeast-1"])
    assert matrix.lag_percentile(lags, REGIONS, "p99").loc["us-west-2", "eu-central-1"] == np.percentile(
        [100, 200, 300, 400], 99
    )


def test_the_heat_map_colours_bands_and_writes_values():
    rtt = matrix.modelled_rtt(REGIONS)
    heat = region_matrix(rtt, "t").data[0]
    bands = np.asarray(heat.z, dtype=float)
    expected = np.searchsorted(
        [50.0, 100.0, 150.0, 200.0], rtt.loc["us-west-2", "eu-central-1"], side="right"
    )
    assert bands[0][1] == expected and np.isnan(bands[0][0])
    assert heat.text[0][1] == f"{rtt.loc['us-west-2', 'eu-central-1']:.0f}" and heat.text[0][0] == ""
    assert list(heat.colorbar.ticktext) == band_labels((50.0, 100.0, 150.0, 200.0))
    assert band_labels(LAG_LIMITS)[0] == "< 250 ms" and band_labels(LAG_LIMITS)[-1] == ">= 1000 ms"

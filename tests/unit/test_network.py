"""The network model: geography, physics floor, inflation, jitter bounds, parsing errors."""

import random

import pytest

from backend.local import network
from backend.local.network import (
    CITIES,
    REGIONS,
    LatencyModel,
    distance_km,
    fiber_floor_rtt_ms,
    modelled_rtt_ms,
    nearest_regions,
    parse_location,
    region_rtt_ms,
    replication_delay_ms,
)


def test_every_continent_has_client_cities():
    continents = {city.continent for city in CITIES.values()}
    assert continents == {
        "North America",
        "South America",
        "Europe",
        "Africa",
        "Asia",
        "Oceania",
        "Antarctica",
    }
    assert len(CITIES) >= 30


def test_regions_include_the_walkthrough_pair_and_have_valid_coordinates():
    assert {"us-west-2", "eu-central-1", "us-east-1", "ap-southeast-2", "sa-east-1", "af-south-1"} <= set(
        REGIONS
    )
    for code, region in REGIONS.items():
        assert region.code == code
        assert -90 <= region.lat <= 90 and -180 <= region.lon <= 180


def test_distance_matches_known_great_circles():
    # London-New York is ~5,570 km; Frankfurt to itself is 0.
    assert distance_km(parse_location("London"), parse_location("New York")) == pytest.approx(5570, rel=0.01)
    assert distance_km("eu-central-1", parse_location("Frankfurt")) == pytest.approx(0, abs=1)


def test_floor_is_one_ms_per_100_km_round_trip():
    london, new_york = parse_location("London"), parse_location("New York")
    assert fiber_floor_rtt_ms(london, new_york) == pytest.approx(distance_km(london, new_york) / 100)


def test_modelled_rtt_is_floor_times_inflation_plus_overhead():
    a, b = "us-west-2", "eu-central-1"
    expected = fiber_floor_rtt_ms(a, b) * network.ROUTE_INFLATION + network.FIXED_OVERHEAD_MS
    assert modelled_rtt_ms(a, b) == pytest.approx(expected)
    assert region_rtt_ms(a, b) == pytest.approx(expected)
    # In the range published inter-region measurements show (cloudping: ~140-160 ms).
    assert 110 < region_rtt_ms(a, b) < 180


def test_jitter_stays_within_its_fraction_and_above_the_floor():
    model = LatencyModel("realistic", jitter_fraction=0.1, rng=random.Random(7))
    seattle, frankfurt = parse_location("Seattle"), REGIONS["eu-central-1"]
    samples = [model.rtt_ms(seattle, frankfurt) for _ in range(500)]
    modelled = modelled_rtt_ms(seattle, frankfurt)
    assert all(modelled * 0.9 - 1e-9 <= s <= modelled * 1.1 + 1e-9 for s in samples)
    assert all(s >= fiber_floor_rtt_ms(seattle, frankfurt) for s in samples)
    assert len(set(samples)) > 100  # it really jitters


def test_mode_none_has_no_delay():
    assert LatencyModel("none").rtt_ms("us-west-2", "ap-southeast-2") == 0
    assert replication_delay_ms("us-west-2", "ap-southeast-2", "none") == 0


def test_replication_delay_typically_within_a_second_for_every_pair():
    for src in REGIONS:
        for dst in REGIONS:
            delay = replication_delay_ms(src, dst, "realistic")
            assert network.REPLICATION_PROCESSING_MS <= delay < 1000


def test_nearest_regions_orders_by_client_location():
    pair = ["us-west-2", "eu-central-1"]
    assert nearest_regions(parse_location("Seattle"), pair)[0] == "us-west-2"
    assert nearest_regions(parse_location("Frankfurt"), pair)[0] == "eu-central-1"


@pytest.mark.parametrize(
    "text", ["frankfurt", "  FRANKFURT ", "sao paulo", "São Paulo", "50.1,8.7", "-33.9, 151.2"]
)
def test_parse_location_accepts_cities_and_coordinates(text):
    location = parse_location(text)
    assert -90 <= location.lat <= 90


@pytest.mark.parametrize("text", ["", "Atlantis", "91,0", "0,181", "nan,0", "1,2,3", None])
def test_parse_location_rejects_with_a_clear_message(text):
    with pytest.raises(ValueError, match="location|Coordinates|Unknown"):
        parse_location(text)


def test_unknown_region_and_mode_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown AWS region"):
        region_rtt_ms("mars-north-1", "us-west-2")
    with pytest.raises(ValueError, match="network mode"):
        LatencyModel("fast")

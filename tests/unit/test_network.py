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


def test_pairs_the_data_lacks_use_the_fitted_formula():
    a, b = "ap-east-2", "eu-central-1"  # Taipei: not in the shipped cloudping snapshot
    expected = fiber_floor_rtt_ms(a, b) * network.ROUTE_INFLATION + network.FIXED_OVERHEAD_MS
    assert network.rtt_source(a, b) == "formula"
    assert region_rtt_ms(a, b) == pytest.approx(expected)
    # A client city is on the formula too.
    seattle, oregon = parse_location("Seattle"), REGIONS["us-west-2"]
    assert modelled_rtt_ms(seattle, oregon) == pytest.approx(
        fiber_floor_rtt_ms(seattle, oregon) * network.ROUTE_INFLATION + network.FIXED_OVERHEAD_MS
    )


@pytest.mark.parametrize(
    "a, b, median",  # the examples: the mean of the two directions of the shipped matrix
    [
        ("us-west-2", "eu-central-1", (142.601 + 142.329) / 2),
        ("us-east-1", "eu-west-1", (69.558 + 69.644) / 2),
        ("ap-northeast-1", "us-west-2", (98.460 + 98.046) / 2),
        ("eu-central-1", "eu-west-1", (26.8600 + 27.28898) / 2),
        ("us-east-1", "us-east-2", (14.668 + 16.1280) / 2),
    ],
)
def test_region_pairs_use_the_measured_median(a, b, median):
    assert network.rtt_source(a, b) == "measured"
    assert region_rtt_ms(a, b) == pytest.approx(median)
    assert region_rtt_ms(b, a) == pytest.approx(median)


def test_a_client_placed_in_a_region_sees_that_regions_measured_medians():
    client = parse_location("us-east-1")
    assert client.region == "us-east-1"
    for code in ("eu-west-1", "ap-southeast-2", "sa-east-1", "us-east-1"):
        assert modelled_rtt_ms(client, REGIONS[code]) == pytest.approx(region_rtt_ms("us-east-1", code))
    assert nearest_regions(client, ["eu-west-1", "us-east-2", "us-east-1"]) == ["us-east-1", "us-east-2", "eu-west-1"]


def test_uniform_jitter_stays_within_its_fraction_and_above_the_floor():
    model = LatencyModel("realistic", jitter_fraction=0.1, rng=random.Random(7))
    seattle, frankfurt = parse_location("Seattle"), REGIONS["eu-central-1"]
    samples = [model.rtt_ms(seattle, frankfurt) for _ in range(500)]
    modelled = modelled_rtt_ms(seattle, frankfurt)
    assert all(modelled * 0.9 - 1e-9 <= s <= modelled * 1.1 + 1e-9 for s in samples)
    assert all(s >= fiber_floor_rtt_ms(seattle, frankfurt) for s in samples)
    assert len(set(samples)) > 100  # it really jitters


def test_default_samples_are_heavy_tailed_around_the_median_and_seedable():
    a, b = "us-east-1", "ap-southeast-2"
    first_samples = {LatencyModel(seed=3).rtt_ms(a, b) for _ in range(3)}
    assert len(first_samples) == 1  # the same seed, the same samples
    model = LatencyModel(seed=5)
    samples = sorted(model.rtt_ms(a, b) for _ in range(20_000))
    expected = network.rtt_percentiles_ms(a, b)
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        assert samples[int(q * len(samples))] == pytest.approx(expected[name], rel=0.01)
    assert expected["p50"] == pytest.approx(region_rtt_ms(a, b))
    assert samples[0] >= model.minimum_ms(a, b)
    # heavier than the body: the distance p50 -> p99 is more than twice p50 -> p90
    assert expected["p99"] - expected["p50"] > 2 * (expected["p90"] - expected["p50"])


def test_mode_none_has_no_delay():
    assert LatencyModel("none").rtt_ms("us-west-2", "ap-southeast-2") == 0
    assert replication_delay_ms("us-west-2", "ap-southeast-2", "none") == 0


def test_replication_delay_typically_within_a_second_for_every_pair():
    for src in REGIONS:
        for dst in REGIONS:
            delay = replication_delay_ms(src, dst, "realistic")
            assert network.REPLICATION_PROCESSING_MS <= delay < 1000
    # one way + processing, from the measured median
    assert replication_delay_ms("us-east-1", "eu-west-1") == pytest.approx(
        region_rtt_ms("us-east-1", "eu-west-1") / 2 + network.REPLICATION_PROCESSING_MS
    )


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
    with pytest.raises(ValueError, match="jitter_fraction"):
        LatencyModel("realistic", jitter_fraction="x")


def test_a_seeded_region_and_router_repeat_their_delays():
    import random as stdlib_random

    from backend.local.region import RegionSettings

    def sequence(seed):
        settings = RegionSettings("eu-west-1", "realistic", "us-east-1", seed=seed)
        return [settings.delay_s() for _ in range(5)]

    assert sequence(7) == sequence(7) != sequence(8)
    # a config change keeps the seed (the sequence starts over); the router keeps its random sequence across modes
    settings = RegionSettings("eu-west-1", "realistic", "us-east-1", seed=7)
    first = settings.delay_s()
    settings.update({"client_location": "us-east-1"})
    assert settings.delay_s() == first
    model = LatencyModel("none", rng=stdlib_random.Random(3)).with_mode("realistic")
    assert model.rtt_ms("us-east-1", "eu-west-1") == LatencyModel(seed=3).rtt_ms("us-east-1", "eu-west-1")

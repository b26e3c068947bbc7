"""The guided tour's pure parts: the story's order, where each region's user sits, and when the tour cannot run."""

import pytest

from dashboard.measure import tour
from dashboard.measure.targets import TargetSet

TWO = TargetSet(
    {"us-west-2": "http://127.0.0.1:1/dev", "eu-central-1": "http://127.0.0.1:2/dev"},
    "http://127.0.0.1:3",
    "http://127.0.0.1:4",
    "test",
)


def test_the_story_follows_the_walkthrough():
    assert [step.id for step in tour.STEPS] == ["isolated", "replication", "geo", "conflict", "failover"]
    assert all(step.explanation and step.title for step in tour.STEPS)


def test_each_region_gets_a_client_city_next_to_it():
    assert tour.city_near("us-west-2") == "Seattle"
    assert tour.city_near("eu-central-1") == "Frankfurt"
    assert tour.city_near("ap-northeast-1") == "Tokyo"


def test_the_walkthrough_regions_are_home_and_away_whatever_their_order():
    swapped = TargetSet(
        {
            "eu-central-1": "http://127.0.0.1:2/dev",
            "ap-northeast-1": "http://127.0.0.1:5/dev",
            "us-west-2": "http://127.0.0.1:1/dev",
        },
        None,
        "http://127.0.0.1:4",
        "test",
    )
    ctx = tour.context(swapped, control=object(), key="k")
    assert (ctx.home, ctx.away, ctx.key) == ("us-west-2", "eu-central-1", "k")
    other = TargetSet(
        {"ap-northeast-1": "http://127.0.0.1:5/dev", "sa-east-1": "http://127.0.0.1:6/dev"},
        None,
        "http://127.0.0.1:4",
        "test",
    )
    ctx = tour.context(other, control=object())
    assert (ctx.home, ctx.away) == ("ap-northeast-1", "sa-east-1")
    assert ctx.key.startswith("tour-")


def test_the_tour_needs_the_local_cloud_and_two_regions():
    with pytest.raises(tour.TourError, match="Local cloud"):
        tour.context(TWO, control=None)
    one = TargetSet({"us-west-2": "http://127.0.0.1:1/dev"}, None, "http://127.0.0.1:4", "test")
    with pytest.raises(tour.TourError, match="two regions"):
        tour.context(one, control=object())


def test_a_control_client_without_the_needed_call_is_a_clear_error():
    with pytest.raises(tour.TourError, match="pause_replication"):
        tour.pause(object(), "us-west-2")

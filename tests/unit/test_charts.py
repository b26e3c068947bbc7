"""Chart builders on synthetic measurements: the right traces, colours, counts and units."""

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import charts

COLUMNS = [
    "timestamp",
    "target",
    "operation",
    "key",
    "status",
    "latency_ms",
    "new_connection",
    "server_app_ms",
    "server_db_ms",
    "network_ms",
    "served_region",
    "error",
]


def synthetic_samples(counts: dict[str, int], *, failed: int = 0, seed: int = 7) -> pd.DataFrame:
    """Samples shaped like the engine's: a lognormal latency per target, Server-Timing split consistent with it."""
    rng = np.random.default_rng(seed)
    rows = []
    start = 1_800_000_000.0
    for index, (target, count) in enumerate(counts.items()):
        latency = rng.lognormal(mean=np.log(20 + 60 * index), sigma=0.3, size=count)
        for n in range(count):
            db = 2.0
            app = 5.0
            rows.append(
                (
                    start + n * 0.01,
                    target,
                    "get",
                    "k",
                    200,
                    latency[n],
                    n == 0,
                    app,
                    db,
                    latency[n] - app,
                    target,
                    None,
                )
            )
    for n in range(failed):
        rows.append((start + n, "us-west-2", "get", "k", None, None, True, None, None, None, None, "timeout"))
    return pd.DataFrame(rows, columns=COLUMNS)


def test_same_region_same_colour_everywhere_and_distinct_for_demo_regions():
    assert charts.region_color("us-west-2") == charts.region_color("us-west-2")
    demo = ["us-west-2", "eu-central-1", "ap-northeast-1", "global"]
    assert len({charts.region_color(r) for r in demo}) == len(demo)
    # An unknown region still gets a stable colour from the palette.
    assert charts.region_color("xx-test-9") == charts.region_color("xx-test-9")
    assert charts.region_color("xx-test-9").startswith("#")


def test_distribution_has_one_box_per_target_with_its_colour_and_the_floor():
    samples = synthetic_samples({"us-west-2": 50, "eu-central-1": 50})
    fig = charts.latency_distribution(samples, floors={"us-west-2": 3.0, "eu-central-1": 90.0})
    boxes = [t for t in fig.data if t.type == "box"]
    assert [b.name for b in boxes] == ["us-west-2", "eu-central-1"]
    assert boxes[0].marker.color == charts.region_color("us-west-2")
    us = samples[samples.target == "us-west-2"].latency_ms
    assert boxes[0].median[0] == pytest.approx(us.median())
    floor = [t for t in fig.data if t.name == "physical floor"][0]
    assert list(floor.y) == [3.0, 90.0]
    assert "ms" in fig.layout.yaxis.title.text
    assert fig.layout.title.text


def test_distribution_of_a_huge_run_ships_quantiles_not_samples():
    samples = synthetic_samples({"us-west-2": 50_000, "eu-central-1": 50_000})
    fig = charts.latency_distribution(samples)
    assert len(fig.to_json()) < 20_000


def test_ecdf_reaches_100_percent_and_is_bounded_in_size():
    samples = synthetic_samples({"us-west-2": 20, "eu-central-1": 5_000})
    fig = charts.latency_ecdf(samples)
    small, large = fig.data
    assert len(small.x) == 20 and small.y[-1] == pytest.approx(100.0)
    assert len(large.x) == charts.ECDF_POINTS and large.y[-1] == pytest.approx(100.0)
    assert list(np.diff(large.x) >= 0) == [True] * (len(large.x) - 1)


def test_histogram_counts_every_successful_sample():
    samples = synthetic_samples({"us-west-2": 300, "eu-central-1": 200}, failed=4)
    fig = charts.latency_histogram(samples, bins=30)
    totals = {t.name: int(sum(t.y)) for t in fig.data}
    assert totals == {"us-west-2": 300, "eu-central-1": 200}


def test_timeseries_switches_to_webgl_for_large_runs_and_marks_failures():
    small = charts.latency_timeseries(synthetic_samples({"us-west-2": 10}, failed=2))
    assert {t.type for t in small.data} == {"scatter"}
    assert [t.name for t in small.data] == ["us-west-2", "failed"]
    assert len(small.data[1].x) == 2
    large = charts.latency_timeseries(synthetic_samples({"us-west-2": 6_000}))
    assert large.data[0].type == "scattergl"
    assert len(large.data[0].x) == 6_000
    assert large.data[0].x[0] == 0.0


def test_timeseries_accepts_datetime_timestamps():
    samples = synthetic_samples({"us-west-2": 5})
    samples["timestamp"] = pd.to_datetime(samples["timestamp"], unit="s", utc=True)
    fig = charts.latency_timeseries(samples)
    assert list(fig.data[0].x) == pytest.approx([0.0, 0.01, 0.02, 0.03, 0.04])


def test_breakdown_stacks_network_function_and_dynamodb():
    parts = pd.DataFrame(
        {"network_ms": [40.0, 90.0], "app_ms": [3.0, 3.5], "db_ms": [2.0, float("nan")]},
        index=pd.Index(["us-west-2", "eu-central-1"], name="target"),
    )
    fig = charts.latency_breakdown(parts)
    stacked = {t.name: list(t.y) for t in fig.data}
    assert stacked == {"network": [40.0, 90.0], "function": [3.0, 3.5], "DynamoDB": [2.0, 0.0]}
    assert list(fig.data[0].x) == ["us-west-2", "eu-central-1"]
    assert fig.layout.barmode == "stack"
    # The thin segments are said in words above each bar, readable at any size.
    assert [a.text for a in fig.layout.annotations] == [
        "function 3.0 ms<br>DynamoDB 2.0 ms",
        "function 3.5 ms<br>DynamoDB not reported",
    ]


def test_charts_take_the_engines_sample_frames():
    from dashboard.measure import samples as engine_samples
    from dashboard.measure import stats

    frame = engine_samples.to_frame(
        synthetic_samples({"us-west-2": 40, "eu-central-1": 40}, failed=2)
        .assign(ok=lambda d: d.status == 200)
        .to_dict("records")
    )
    assert sum(len(t.x) for t in charts.latency_timeseries(frame).data if t.name != "failed") == 80
    assert [t.name for t in charts.latency_distribution(frame).data] == ["us-west-2", "eu-central-1"]
    fig = charts.latency_breakdown(stats.breakdown(frame))
    assert list(fig.data[2].y) == pytest.approx([2.0, 2.0])


def test_empty_inputs_draw_a_message_not_an_error():
    empty = pd.DataFrame(columns=COLUMNS)
    for build in (
        charts.latency_distribution,
        charts.latency_ecdf,
        charts.latency_histogram,
        charts.latency_timeseries,
    ):
        fig = build(empty)
        assert isinstance(fig, go.Figure)
        assert fig.layout.annotations
    assert charts.latency_breakdown(pd.DataFrame()).layout.annotations
    only_failures = synthetic_samples({}, failed=3)
    assert charts.latency_distribution(only_failures).layout.annotations


def test_lag_charts_per_pair_with_reported_latency_beside():
    lags = pd.DataFrame(
        {
            "source": ["us-west-2"] * 4 + ["eu-central-1"] * 4,
            "destination": ["eu-central-1"] * 4 + ["us-west-2"] * 4,
            "lag_ms": [100.0, 120.0, 110.0, None, 90.0, 95.0, 99.0, 101.0],
            "timestamp": [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0],
        }
    )
    fig = charts.lag_distribution(lags, reported={"us-west-2 → eu-central-1": 105.0})
    boxes = [t for t in fig.data if t.type == "box"]
    assert [b.name for b in boxes] == ["us-west-2 → eu-central-1", "eu-central-1 → us-west-2"]
    assert len(boxes[0].y) == 3  # the probe that never arrived is not a lag
    assert boxes[0].marker.color == charts.region_color("eu-central-1")
    reported = [t for t in fig.data if t.type == "scatter"][0]
    assert list(reported.y) == [105.0]
    series = charts.lag_timeseries(lags)
    assert len(series.data) == 2 and list(series.data[1].x) == [0.0, 1.0, 2.0, 3.0]


def test_value_timeline_and_failover_timeline():
    observations = pd.DataFrame(
        {
            "since_writes_ms": [0, 0, 50, 50, 120, 120],
            "region": ["us-west-2", "eu-central-1"] * 3,
            "value": ["A", "B", "A", "B", "B", "B"],
        }
    )
    fig = charts.value_timeline(observations, agreed_ms=120)
    assert [t.name for t in fig.data] == ["us-west-2", "eu-central-1"]
    assert list(fig.data[0].y) == ["A", "A", "B"]
    assert fig.layout.shapes[0].x0 == 120 and fig.layout.annotations[-1].text == "agreed 120 ms"
    requests = pd.DataFrame(
        {
            "elapsed_s": [0.0, 1.0, 2.0, 3.0],
            "served_region": ["us-west-2", None, "eu-central-1", "eu-central-1"],
            "ok": [True, False, True, True],
        }
    )
    fig = charts.failover_timeline(requests, events=[(0.5, "us-west-2 down")])
    assert {t.name for t in fig.data} == {"us-west-2", "eu-central-1", "not served"}
    assert fig.layout.shapes  # the event line


def test_world_map_marks_the_nearest_region_and_labels_latency():
    regions = pd.DataFrame(
        {"region": ["us-west-2", "eu-central-1"], "lat": [45.8, 50.1], "lon": [-119.7, 8.7]}
    )
    fig = charts.world_map(
        regions,
        client={"name": "Paris", "lat": 48.9, "lon": 2.35},
        latencies={"us-west-2": 140.0, "eu-central-1": 12.0},
    )
    names = [t.name for t in fig.data if t.name]
    assert "eu-central-1 (nearest)" in names and "us-west-2" in names and "client: Paris" in names
    labels = [t.text[0] for t in fig.data if t.mode == "text"]
    assert sorted(label for label in labels if label.endswith(" ms")) == ["12 ms", "140 ms"]
    assert {"Paris", "us-west-2", "eu-central-1"} <= set(labels)  # every dot labelled, by the label placement
    spec = json.loads(fig.to_json())
    assert spec["layout"]["geo"]["resolution"] == 110


def test_geo_reads_colour_by_serving_region():
    reads = pd.DataFrame(
        {
            "client location": ["Seattle"] * 3 + ["Frankfurt"] * 3,
            "served by": ["us-west-2"] * 3 + ["eu-central-1"] * 3,
            "latency_ms": [20.0, 21.0, 22.0, 15.0, 16.0, 17.0],
        }
    )
    fig = charts.geo_reads(reads)
    assert [t.name for t in fig.data] == ["served by us-west-2", "served by eu-central-1"]
    assert fig.data[1].marker.color == charts.region_color("eu-central-1")
    assert list(fig.data[1].x) == ["Frankfurt"] * 3


def test_every_ms_axis_starts_at_zero_or_is_logarithmic_on_request():
    samples_ = pd.DataFrame(
        {
            "target": ["us-west-2"] * 3,
            "latency_ms": [140.0, 141.0, 142.0],
            "ok": [True] * 3,
            "elapsed_s": [0, 1, 2],
        }
    )
    fig = charts.latency_timeseries(samples_)
    assert fig.layout.yaxis.rangemode == "tozero"  # 1 ms of jitter at 140 ms stays 1 ms tall, not a cliff
    fig = charts.log_scale(fig)
    assert fig.layout.yaxis.type == "log" and fig.layout.xaxis.type != "log"  # only the ms axis
    assert charts.log_scale(fig, False).layout.yaxis.rangemode == "tozero"


def test_map_labels_never_overlap_and_sit_next_to_their_own_dot():
    from dashboard.charts.labels import (
        DOT_DEG,
        GAP_DEG,
        LINE_DEG,
        label_box,
        place_line_labels,
        place_region_labels,
    )

    # The crowded corners of a demo: Virginia and Ohio, Ireland, London, Paris and Frankfurt, plus the client.
    points = [
        ("us-east-1", -77.5, 38.9), ("us-east-2", -83.0, 40.0), ("eu-west-1", -6.3, 53.3),
        ("eu-west-2", -0.1, 51.5), ("eu-west-3", 2.35, 48.9), ("eu-central-1", 8.7, 50.1), ("Frankfurt", 8.68, 50.11),
    ]  # fmt: skip
    positions, taken = place_region_labels(points)
    boxes = [label_box(lon, lat, text, *positions[text]) for text, lon, lat in points]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1]), (a, b)
    for (text, lon, lat), box in zip(
        points, boxes, strict=True
    ):  # each label by its own dot (or led to it from farther out)
        reach = DOT_DEG + GAP_DEG + positions[text][1] * (LINE_DEG + GAP_DEG)
        assert box[0] - reach <= lon <= box[2] + reach and box[1] - reach <= lat <= box[3] + reach, text
    spots = place_line_labels([("89 ms", 8.7, 50.1, -77.5, 38.9), ("89 ms", 8.7, 50.1, -83.0, 40.0)], taken)
    assert spots[0] != spots[1]  # two equal figures on two lines: two places

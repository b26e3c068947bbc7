"""Statistics of the engine on synthetic samples whose answers are known by construction."""

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.measure import samples, stats


def _rows(target, latencies, ok=True, new_connection=False, app=None, db=None):
    rows = []
    for i, latency in enumerate(latencies):
        rows.append(
            {
                "timestamp": 1_700_000_000 + i,
                "elapsed_s": float(i),
                "target": target,
                "operation": "read",
                "key": "k",
                "status": 200 if ok else 503,
                "ok": ok,
                "latency_ms": latency,
                "new_connection": new_connection,
                "server_app_ms": app if app is not None else math.nan,
                "server_db_ms": db if db is not None else math.nan,
                "network_ms": latency - app if app is not None else math.nan,
                "error": "" if ok else "HTTP 503",
            }
        )
    return rows


def test_percentiles_of_1_to_100_are_the_textbook_values():
    values = list(range(1, 101))
    assert stats.percentile(values, 50) == pytest.approx(50.5)
    assert stats.percentile(values, 90) == pytest.approx(90.1)
    assert stats.percentile(values, 99) == pytest.approx(99.01)
    assert math.isnan(stats.percentile([], 50))
    assert stats.percentile([math.nan, 3.0], 50) == 3.0


def test_summary_per_target_counts_errors_apart_from_latency():
    rows = _rows("us-west-2", list(range(1, 101))) + _rows("eu-central-1", [100.0] * 10)
    rows += _rows("eu-central-1", [5000.0] * 2, ok=False)  # errors do not pollute latency figures
    summary = stats.summarize(samples.to_frame(rows))
    us, eu = summary.loc["us-west-2"], summary.loc["eu-central-1"]
    assert (us["count"], us["errors"]) == (100, 0)
    assert us["mean"] == pytest.approx(50.5)
    assert us["p50"] == pytest.approx(50.5)
    assert us["p99"] == pytest.approx(99.01)
    assert us["max"] == 100
    assert (eu["count"], eu["errors"]) == (12, 2)
    assert eu["p50"] == eu["max"] == 100.0
    assert list(summary.columns) == stats.SUMMARY_COLUMNS


def test_warm_only_drops_connection_setup_samples_but_counts_them():
    rows = _rows("r", [50.0], new_connection=True) + _rows("r", [10.0] * 9)
    df = samples.to_frame(rows)
    cold = stats.summarize(df).loc["r"]
    warm = stats.summarize(df, warm_only=True).loc["r"]
    assert cold["max"] == 50.0 and warm["max"] == 10.0
    assert warm["count"] == 10 and warm["new_connections"] == 1


def test_summary_of_a_target_with_only_errors_has_nan_latency():
    summary = stats.summarize(samples.to_frame(_rows("r", [1.0, 2.0], ok=False)))
    assert summary.loc["r", "errors"] == 2
    assert math.isnan(summary.loc["r", "p50"])


def test_empty_frame_summarizes_to_an_empty_table():
    assert len(stats.summarize(samples.empty_frame())) == 0
    assert len(stats.ecdf(samples.empty_frame())) == 0
    assert len(stats.breakdown(samples.empty_frame())) == 0


def test_ecdf_is_sorted_and_reaches_one_per_target():
    df = samples.to_frame(_rows("a", [3.0, 1.0, 2.0, 4.0]) + _rows("b", [10.0, 20.0]))
    curve = stats.ecdf(df)
    a = curve[curve["target"] == "a"]
    assert list(a["latency_ms"]) == [1.0, 2.0, 3.0, 4.0]
    assert list(a["fraction"]) == [0.25, 0.5, 0.75, 1.0]
    assert curve[curve["target"] == "b"]["fraction"].iloc[-1] == 1.0


def test_breakdown_splits_network_function_and_dynamodb_time():
    df = samples.to_frame(_rows("r", [10.0, 12.0, 14.0], app=4.0, db=3.0))
    split = stats.breakdown(df).loc["r"]
    assert split["network_ms"] == pytest.approx(8.0)
    assert split["app_ms"] == pytest.approx(1.0)
    assert split["db_ms"] == pytest.approx(3.0)


def test_sample_frame_has_every_column_typed_and_round_trips_through_csv_and_json(tmp_path):
    df = samples.to_frame(_rows("r", [1.5, 2.5], app=1.0, db=0.5))
    assert list(df.columns[: len(samples.SAMPLE_COLUMNS)]) == samples.SAMPLE_COLUMNS
    assert str(df["timestamp"].dtype).startswith("datetime64") and df["status"].dtype == np.int64
    text = samples.to_csv(df)
    back = pd.read_csv(__import__("io").StringIO(text))
    assert list(back["latency_ms"]) == [1.5, 2.5]
    assert back["timestamp"][0] == "2023-11-14T22:13:20.000000Z"
    samples.to_json(df, tmp_path / "s.json")
    records = __import__("json").loads((tmp_path / "s.json").read_text())
    assert records[1]["latency_ms"] == 2.5 and records[0]["written_at"] is None

"""The sidebar's export: every measured table in one CSV (with a `measurement` column) or one JSON document."""

import json

import pandas as pd

from dashboard.measure import exports


def frames():
    latency = pd.DataFrame(
        {
            "timestamp": pd.to_datetime([1_800_000_000.0, 1_800_000_000.5], unit="s", utc=True),
            "target": ["us-west-2", "eu-central-1"],
            "latency_ms": [12.5, float("nan")],
        }
    )
    lag = pd.DataFrame({"source": ["us-west-2"], "destination": ["eu-central-1"], "lag_ms": [310.0]})
    return {"latency": latency, "lag": lag}


def test_csv_holds_every_row_tagged_with_its_measurement_and_iso_timestamps():
    text = exports.export_csv(frames())
    table = pd.read_csv(pd.io.common.StringIO(text))
    assert list(table["measurement"]) == ["latency", "latency", "lag"]
    assert table.loc[0, "timestamp"] == "2027-01-15T08:00:00.000000Z"
    assert table.loc[2, "lag_ms"] == 310.0


def test_json_is_one_document_with_nulls_for_missing_values():
    document = json.loads(exports.export_json(frames()))
    assert set(document) == {"latency", "lag"}
    assert document["latency"][1]["latency_ms"] is None
    assert document["latency"][0]["timestamp"] == "2027-01-15T08:00:00.000000Z"
    assert document["lag"] == [{"source": "us-west-2", "destination": "eu-central-1", "lag_ms": 310.0}]


def test_nothing_measured_exports_empty():
    assert exports.export_csv({}) == ""
    assert json.loads(exports.export_json({})) == {}

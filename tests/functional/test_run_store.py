"""The run store in-process, on a real SQLite file: every kind round-trips, a run cut short is kept as stopped,
a failed one as failed, export -> import on a fresh store compares identically, bad files are refused cleanly."""

from __future__ import annotations

import json
import math
import sqlite3
import zipfile

import numpy as np
import pandas as pd
import pytest

from dashboard.measure import samples
from dashboard.measure.probes.conflict import RESULT_COLUMNS, TIMELINE_COLUMNS
from dashboard.measure.probes.lag import LAG_COLUMNS
from dashboard.measure.runs import compare, share
from dashboard.measure.runs.context import build_context
from dashboard.measure.runs.recorder import MAIN_FRAME, Recording
from dashboard.measure.runs.store import RunStore, StoreError
from dashboard.measure.targets import TargetSet

TARGETS = TargetSet(
    regions={"us-west-2": "http://127.0.0.1:1/dev", "eu-central-1": "http://127.0.0.1:2/dev"},
    global_url="http://127.0.0.1:3/dev",
    source="targets.json",
)


def context(location="Frankfurt", **workload):
    return build_context(TARGETS, workload or {"count": 10}, TARGETS.names(), location)


def latency_rows(n=40, seed=1, scale=1.0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        target = ["us-west-2", "eu-central-1", "global"][i % 3]
        ok = i % 13 != 5
        rows.append({"timestamp": 1.7e9 + i, "elapsed_s": i * 0.01, "target": target, "operation": "read",
                     "key": "k", "status": 200 if ok else 503, "ok": ok,
                     "latency_ms": float(rng.lognormal(3, 0.3)) * scale, "served_region": "us-west-2",
                     "error": "" if ok else "HTTP 503"})  # fmt: skip
    return rows


def lag_rows(n=6):
    return [{"probe": i, "timestamp": 1.7e9 + i, "elapsed_s": i * 0.1, "source": "us-west-2",
             "destination": "eu-central-1", "key": f"k{i}", "status": "seen" if i else "timeout",
             "lag_ms": 80.0 + i if i else math.nan, "resolution_ms": 2.0, "lag_low_ms": math.nan, "polls": 5,
             "poll_errors": 0, "write_latency_ms": 3.0, "written_at": 1.7e12 + i, "error": ""}
            for i in range(n)]  # fmt: skip


def conflict_frames():
    results = pd.DataFrame(
        [{"trial": t, "timestamp": 1.7e9 + t, "key": f"c{t}", "regions": "us-west-2,eu-central-1", "acked": 2,
          "winner_value": "v", "winner_region": "us-west-2", "winner_written_at": 1.7e12, "expected_value": "v",
          "expected_region": "us-west-2", "follows_lww": True, "losers": "eu-central-1", "write_spread_ms": 1.0,
          "converged": True, "converge_ms": 100.0 + t, "resolution_ms": 10.0, "rounds": 3, "error": ""}
         for t in range(3)], columns=RESULT_COLUMNS)  # fmt: skip
    results["timestamp"] = pd.to_datetime(results["timestamp"], unit="s", utc=True)
    timeline = pd.DataFrame(
        [[t, r, r * 0.01, r * 10, "us-west-2", "v", "us-west-2", 1.7e12, 200] for t in range(3) for r in range(2)],
        columns=TIMELINE_COLUMNS,
    )
    return results, timeline


def record(store, kind, rows, frames, ctx=None, summary=None, name=None):
    with Recording(store, kind, ctx or context(), name=name, flush_rows=4) as rec:
        for row in rows:
            rec.on_sample(row)
        rec.complete(frames, summary)
    return rec.id


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "runs.sqlite")


def test_every_kind_round_trips_with_its_context(store):
    latency = samples.to_frame(latency_rows())
    lag = pd.DataFrame(lag_rows(), columns=LAG_COLUMNS)
    lag["timestamp"] = pd.to_datetime(lag["timestamp"], unit="s", utc=True)
    results, timeline = conflict_frames()
    failover = samples.to_frame(latency_rows(12)).assign(phase=["before"] * 4 + ["down"] * 4 + ["after"] * 4)
    kept = {
        "latency": ({"samples": latency}, None),
        "lag": ({"samples": lag}, None),
        "conflict": ({"results": results, "timeline": timeline}, None),
        "failover": ({"samples": failover}, {"failed_region": "us-west-2", "failover_s": 1.5}),
    }
    ids = {}
    for kind, (frames, summary) in kept.items():
        ids[kind] = record(store, kind, frames[MAIN_FRAME[kind]].to_dict("records"), frames, summary=summary)
    for kind, (frames, summary) in kept.items():
        run = store.get(ids[kind])
        assert run["kind"] == kind and run["status"] == "complete" and run["ended_at"]
        assert run["samples"] == len(frames[MAIN_FRAME[kind]])
        assert run["summary"] == summary
        assert run["context"]["client_location"]["name"] == "Frankfurt"
        assert run["context"]["environment"] == "file" and run["context"]["network"]["profile"] == "internet"
        assert run["context"]["host"] and run["context"]["project_version"]
        assert sorted(store.frames(run["id"])) == sorted(frames)
        for name, df in frames.items():
            pd.testing.assert_frame_equal(store.frame(run["id"], name), df.reset_index(drop=True))
    assert [r["kind"] for r in store.list(kind="lag")] == ["lag"]
    assert len(store.list(client_location="frankfurt")) == 4


def test_a_run_cut_short_keeps_its_samples_as_stopped_and_an_error_as_failed(store):
    rows = latency_rows(10)
    with pytest.raises(KeyboardInterrupt), Recording(store, "latency", context(), flush_rows=3) as rec:
        for index, row in enumerate(rows):
            if index == 7:
                raise KeyboardInterrupt
            rec.on_sample(row)
    stopped = store.get(rec.id)
    assert stopped["status"] == "stopped" and stopped["samples"] == 7
    assert len(store.frame(rec.id)) == 7 and store.frame(rec.id)["latency_ms"].tolist() == [
        r["latency_ms"] for r in rows[:7]
    ]
    with pytest.raises(RuntimeError), Recording(store, "lag", context()) as failing:
        failing.on_sample(lag_rows()[1])
        raise RuntimeError("the source region is down")
    failed = store.get(failing.id)
    assert failed["status"] == "failed" and failed["error"] == "the source region is down"
    assert failed["samples"] == 1


def test_streamlits_stop_of_a_page_keeps_the_run_as_stopped(store):
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    with pytest.raises(StopException), Recording(store, "latency", context()) as rec:
        rec.on_sample(latency_rows(1)[0])
        raise StopException()
    assert store.get(rec.id)["status"] == "stopped" and store.get(rec.id)["samples"] == 1


def test_lag_and_conflict_runs_compare_per_pair_and_per_region_set(store):
    first = pd.DataFrame(lag_rows(), columns=LAG_COLUMNS)
    second = first.assign(lag_ms=first["lag_ms"] * 2)
    a = record(store, "lag", [], {"samples": first})
    b = record(store, "lag", [], {"samples": second})
    table = compare.compare(store, [a, b]).table
    pair = "us-west-2 → eu-central-1"
    assert table.loc[(pair, "count"), "A"] == 6 and table.loc[(pair, "error %"), "A"] == pytest.approx(
        100 / 6, abs=0.01
    )
    assert table.loc[(pair, "p50"), "A"] == 83.0  # lags 81..85 ms; the timeout counts as an error
    assert table.loc[(pair, "p50"), "B/A"] == 2.0
    results, timeline = conflict_frames()
    c = record(store, "conflict", [], {"results": results, "timeline": timeline})
    d = record(
        store,
        "conflict",
        [],
        {"results": results.assign(converge_ms=results["converge_ms"] + 10), "timeline": timeline},
    )
    table = compare.compare(store, [c, d]).table
    assert table.loc[("us-west-2,eu-central-1", "p50"), "B−A"] == 10.0
    with pytest.raises(ValueError, match="share no target"):
        compare.compare(store, [a, c])


def test_a_store_of_another_version_or_not_a_store_is_refused_in_one_line(tmp_path):
    newer = RunStore(tmp_path / "newer.sqlite")
    newer.list()
    with sqlite3.connect(newer.path) as con:
        con.execute("update meta set value = '2' where key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 2; this version reads 1"):
        RunStore(newer.path).list()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="is not a run store"):
        RunStore(junk).list()
    assert junk.read_bytes() == b"this is not a database" * 100  # nothing lost


def test_names_prefixes_rename_and_delete(store):
    first = record(store, "latency", [], {"samples": samples.to_frame(latency_rows())}, name="monday")
    second = record(store, "latency", [], {"samples": samples.to_frame(latency_rows(seed=2))})
    assert store.get("monday")["id"] == first and store.get(second[:6])["id"] == second
    store.rename(second, "tuesday")
    assert store.get("tuesday")["id"] == second
    with pytest.raises(StoreError, match="already named"):
        store.rename(first, "tuesday")
    with pytest.raises(StoreError, match="no run 'nope'"):
        store.get("nope")
    store.delete("monday")
    assert [r["id"] for r in store.list()] == [second]
    assert store.frame(first).empty


def test_export_then_import_on_a_fresh_store_gives_the_identical_comparison(store, tmp_path):
    a = record(store, "latency", [], {"samples": samples.to_frame(latency_rows())}, context("Frankfurt"))
    b = record(
        store, "latency", [], {"samples": samples.to_frame(latency_rows(seed=3, scale=2))}, context("Sydney")
    )
    before = compare.compare(store, [a, b])
    fresh = RunStore(tmp_path / "other" / "runs.sqlite")
    for run in (a, b):
        share.import_run(fresh, share.export_run(store, run, tmp_path / f"{run}.mrkv-run.zip"))
    after = compare.compare(fresh, [a, b])
    pd.testing.assert_frame_equal(before.table, after.table)
    assert json.dumps(before.to_dict(), default=str) == json.dumps(after.to_dict(), default=str)
    assert any("client locations differ" in note for note in after.warnings)


def test_compare_figures_differences_and_ratios(store):
    a = record(store, "latency", [], {"samples": samples.to_frame(latency_rows(60))})
    b = record(store, "latency", [], {"samples": samples.to_frame(latency_rows(60, scale=2.0))})
    result = compare.compare(store, [a, b])
    assert not result.warnings  # same place, network and environment
    table = result.table
    p50 = table.xs("p50", level="figure")
    good = samples.to_frame(latency_rows(60))
    good = good[good["ok"] & (good["target"] == "global")]["latency_ms"]
    assert p50.loc["global", "A"] == round(float(np.percentile(good, 50)), 2)
    assert p50.loc["global", "B/A"] == pytest.approx(2.0, abs=0.01)
    assert table.loc[("global", "count"), "A"] == 20
    assert table.loc[("global", "error %"), "A"] == pytest.approx(100 * 2 / 20, abs=0.01)
    assert set(result.ecdf["run"]) == {"A", "B"} and set(result.boxes["target"]) == {
        "us-west-2",
        "eu-central-1",
        "global",
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tidy_tables_one_per_kind_and_frame_every_row_with_its_run(store, tmp_path, fmt):
    a = record(store, "latency", [], {"samples": samples.to_frame(latency_rows(9))})
    b = record(store, "latency", [], {"samples": samples.to_frame(latency_rows(6))})
    results, timeline = conflict_frames()
    c = record(store, "conflict", [], {"results": results, "timeline": timeline})
    folder = share.export_tables(store, [a, b, c], tmp_path / "tables", fmt)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["tables"]) == {"latency_samples", "conflict_results", "conflict_timeline"}
    assert [run["id"] for run in manifest["runs"]] == [a, b, c] and manifest["runs"][0]["context"]["targets"]
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    latency = read(folder / manifest["tables"]["latency_samples"]["file"])
    assert list(latency.columns[:2]) == ["run_id", "timestamp"] and len(latency) == 15
    assert latency["run_id"].value_counts().to_dict() == {a: 9, b: 6}
    assert len(read(folder / f"conflict_timeline.{fmt}")) == len(timeline)


@pytest.mark.parametrize("damage", ["not a zip", "version", "rows", "no manifest"])
def test_a_bad_import_file_is_refused_and_nothing_is_written(store, tmp_path, damage):
    run = record(store, "latency", [], {"samples": samples.to_frame(latency_rows())})
    good = share.export_run(store, run, tmp_path / "good.zip")
    bad = tmp_path / "bad.zip"
    if damage == "not a zip":
        bad.write_bytes(b"hello")
    else:
        with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as out:
            manifest = json.loads(src.read("manifest.json"))
            if damage == "version":
                manifest["format_version"] = 99
            if damage == "rows":
                manifest["frames"]["samples"]["rows"] += 1
            if damage != "no manifest":
                out.writestr("manifest.json", json.dumps(manifest))
            out.writestr("frames/samples.parquet", src.read("frames/samples.parquet"))
    fresh = RunStore(tmp_path / "fresh.sqlite")
    with pytest.raises(share.ShareError) as error:
        share.import_run(fresh, bad)
    assert "\n" not in str(error.value)
    assert fresh.list() == []
    with pytest.raises(share.ShareError, match="already in"):
        share.import_run(store, good)

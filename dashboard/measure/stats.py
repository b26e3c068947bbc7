"""Summaries of sample DataFrames (``dashboard.measure.samples`` schema). Pure functions, no I/O.

* ``percentile(values, q)`` – linear interpolation between closest ranks (numpy's default, "type 7"); NaN if empty.
* ``summarize(df, by="target", warm_only=False)`` – one row per group: ``count`` (all samples), ``errors``
  (samples with ``ok`` False), ``new_connections``, and over the successful samples' ``latency_ms``: ``mean``,
  ``p50``, ``p90``, ``p99``, ``max`` (NaN when a group has no success). ``warm_only=True`` drops requests that
  opened a connection before computing the latency figures (count and errors still count every sample).
* ``breakdown(df, by="target")`` – median network / function-outside-DynamoDB / DynamoDB ms per group, for a
  stacked bar (``network_ms``, ``app_ms`` = app − db, ``db_ms``), over successful warm samples.
* ``ecdf(df, by="target", column="latency_ms")`` – the empirical CDF per group: columns ``by``, ``column``,
  ``fraction`` (i/n, sorted), over successful samples.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ["count", "errors", "new_connections", "mean", "p50", "p90", "p99", "max"]


def percentile(values, q: float) -> float:
    array = np.asarray(list(values) if not hasattr(values, "__array__") else values, dtype="float64")
    array = array[~np.isnan(array)]
    if array.size == 0:
        return math.nan
    return float(np.percentile(array, q))


def _latency_figures(latencies: np.ndarray) -> dict:
    latencies = latencies[~np.isnan(latencies)]
    if latencies.size == 0:
        return {"mean": math.nan, "p50": math.nan, "p90": math.nan, "p99": math.nan, "max": math.nan}
    p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
    return {
        "mean": float(latencies.mean()),
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "max": float(latencies.max()),
    }


def summarize(
    df: pd.DataFrame, by="target", warm_only: bool = False, column: str = "latency_ms"
) -> pd.DataFrame:
    """Per-group count, errors, new connections and latency mean/p50/p90/p99/max (ms); index = the group."""
    keys = [by] if isinstance(by, str) else list(by)
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=keys + SUMMARY_COLUMNS).set_index(keys)
    rows = []
    for group, part in df.groupby(keys, sort=False, dropna=False):
        ok = part["ok"].astype(bool)
        good = part[ok]
        if warm_only and "new_connection" in good.columns:
            good = good[~good["new_connection"].astype(bool)]
        figures = _latency_figures(good[column].to_numpy(dtype="float64"))
        group = group if isinstance(group, tuple) else (group,)
        row = dict(zip(keys, group, strict=True))
        row.update(
            {
                "count": int(len(part)),
                "errors": int((~ok).sum()),
                "new_connections": int(part["new_connection"].astype(bool).sum())
                if "new_connection" in part
                else 0,
                **figures,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=keys + SUMMARY_COLUMNS).set_index(keys)


def breakdown(df: pd.DataFrame, by="target") -> pd.DataFrame:
    """Median network, function (outside DynamoDB) and DynamoDB time per group, in ms."""
    columns = ["network_ms", "app_ms", "db_ms"]
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=[by] + columns).set_index(by)
    good = df[df["ok"].astype(bool) & ~df["new_connection"].astype(bool)]
    rows = []
    for group, part in good.groupby(by, sort=False):
        app = part["server_app_ms"].to_numpy(dtype="float64")
        db = part["server_db_ms"].to_numpy(dtype="float64")
        rows.append(
            {
                by: group,
                "network_ms": percentile(part["network_ms"].to_numpy(dtype="float64"), 50),
                "app_ms": percentile(app - np.where(np.isnan(db), 0.0, db), 50),
                "db_ms": percentile(db, 50),
            }
        )
    return pd.DataFrame(rows, columns=[by] + columns).set_index(by)


def ecdf(df: pd.DataFrame, by="target", column: str = "latency_ms") -> pd.DataFrame:
    """Empirical CDF per group: sorted ``column`` values with ``fraction`` = rank / n (successful samples only)."""
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=[by, column, "fraction"])
    parts = []
    good = df[df["ok"].astype(bool)] if "ok" in df.columns else df
    for group, part in good.groupby(by, sort=False):
        values = np.sort(part[column].dropna().to_numpy(dtype="float64"))
        if values.size == 0:
            continue
        parts.append(
            pd.DataFrame({by: group, column: values, "fraction": np.arange(1, values.size + 1) / values.size})
        )
    if not parts:
        return pd.DataFrame(columns=[by, column, "fraction"])
    return pd.concat(parts, ignore_index=True)

"""The sample schema: one timed HTTP request is one row; every probe returns a pandas DataFrame of such rows.

Columns (``SAMPLE_COLUMNS``, in this order):

==================  ==========================================================================================
timestamp           wall-clock time the request was sent, pandas ``datetime64[ns, UTC]``
elapsed_s           seconds since the run started, on the monotonic clock (use it for time series)
target              target name: a region (``us-west-2``) or ``global``
operation           ``read`` | ``write`` | ``delete`` | ``health``
key                 the key asked for (``""`` for health)
status              HTTP status; 0 when no HTTP answer came back (connection refused, timeout...)
ok                  True for a 2xx answer, and for a 404 on a read (a clean "not found" is a valid answer)
latency_ms          total time, request sent -> response body read, on ``time.perf_counter``;
                    for a request on a new connection this includes the TCP (and TLS) setup
connect_ms          time spent opening the connection (0.0 on a reused, warm connection)
new_connection      True when this request opened a connection (kept apart from warm requests in summaries)
server_app_ms       function time from the ``Server-Timing`` header (``app;dur``), NaN when absent
server_db_ms        DynamoDB time from ``Server-Timing`` (``db;dur``), NaN when absent
network_ms          latency_ms - server_app_ms (network, gateway and client overhead), NaN when app is absent
served_region       the region that answered: the router's served-region header, else ``readRegion`` /
                    ``region`` from the JSON body; ``""`` when unknown
value               the value in the answer (reads and writes), ``""`` otherwise
write_region        ``writeRegion`` (reads) or ``region`` (writes) of the item, ``""`` otherwise
written_at          ``writtenAt`` of the item (epoch ms), NaN when absent
error               ``""`` on success, else a short message (HTTP error body, or the client-side exception)
==================  ==========================================================================================

Helpers: ``to_frame(rows)`` (list of dicts -> DataFrame with every column, in order, with proper dtypes),
``empty_frame()``, ``concat(frames)``, ``to_csv(df, path=None)`` and ``to_json(df, path=None)`` (return the text
when ``path`` is None; JSON is a list of records with ISO-8601 timestamps).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

SAMPLE_COLUMNS = [
    "timestamp",
    "elapsed_s",
    "target",
    "operation",
    "key",
    "status",
    "ok",
    "latency_ms",
    "connect_ms",
    "new_connection",
    "server_app_ms",
    "server_db_ms",
    "network_ms",
    "served_region",
    "value",
    "write_region",
    "written_at",
    "error",
]

_FLOAT_COLUMNS = [
    "elapsed_s",
    "latency_ms",
    "connect_ms",
    "server_app_ms",
    "server_db_ms",
    "network_ms",
    "written_at",
]
_STR_COLUMNS = ["target", "operation", "key", "served_region", "value", "write_region", "error"]
_DEFAULTS = {
    "elapsed_s": math.nan,
    "status": 0,
    "ok": False,
    "latency_ms": math.nan,
    "connect_ms": 0.0,
    "new_connection": False,
    "server_app_ms": math.nan,
    "server_db_ms": math.nan,
    "network_ms": math.nan,
    "written_at": math.nan,
}


def _typed(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for column in columns:
        if column not in df.columns:
            df[column] = _DEFAULTS.get(column, "")
    df["timestamp"] = pd.to_datetime(
        df["timestamp"], utc=True, unit="s" if _is_numeric(df["timestamp"]) else None
    )
    for column in _FLOAT_COLUMNS:
        df[column] = pd.to_numeric(df[column], errors="coerce").astype("float64")
    df["status"] = pd.to_numeric(df["status"], errors="coerce").fillna(0).astype("int64")
    for column in ("ok", "new_connection"):
        df[column] = df[column].fillna(False).astype(bool)
    for column in _STR_COLUMNS:
        df[column] = df[column].fillna("").astype(str)
    extra = [c for c in df.columns if c not in columns]
    return df[columns + extra]


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series)


def to_frame(rows, extra_columns: list[str] | None = None) -> pd.DataFrame:
    """Rows (dicts with the sample fields; ``timestamp`` as epoch seconds or datetime) -> a typed DataFrame.

    Columns beyond ``SAMPLE_COLUMNS`` (a probe's own, e.g. ``probe`` or ``trial``) are kept after the standard ones.
    """
    rows = list(rows)
    df = pd.DataFrame(rows) if rows else pd.DataFrame({"timestamp": pd.Series([], dtype="float64")})
    if "timestamp" not in df.columns:
        df["timestamp"] = math.nan
    df = _typed(df, SAMPLE_COLUMNS)
    for column in extra_columns or []:
        if column not in df.columns:
            df[column] = pd.Series(dtype="object")
    return df


def empty_frame(extra_columns: list[str] | None = None) -> pd.DataFrame:
    return to_frame([], extra_columns)


def concat(frames) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return empty_frame()
    return pd.concat(frames, ignore_index=True)


def _export_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return out


def to_csv(df: pd.DataFrame, path=None) -> str | None:
    """CSV with ISO-8601 UTC timestamps; returns the text when ``path`` is None, else writes the file."""
    text = _export_frame(df).to_csv(index=False)
    if path is None:
        return text
    Path(path).write_text(text, encoding="utf-8")
    return None


def to_json(df: pd.DataFrame, path=None) -> str | None:
    """JSON list of records (NaN -> null); returns the text when ``path`` is None, else writes the file."""
    text = _export_frame(df).to_json(orient="records", force_ascii=False, double_precision=6)
    if path is None:
        return text
    Path(path).write_text(text, encoding="utf-8")
    return None

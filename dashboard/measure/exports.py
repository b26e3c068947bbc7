"""Every measurement of a session as one CSV or one JSON document (the sidebar's export buttons).

``frames_for_export(measurements)`` keeps the tables among what a session stored (DataFrames, lists of row dicts);
``export_csv(frames)`` and ``export_json(frames)`` serialise them, timestamps as ISO 8601 UTC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

ISO_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"


def frames_for_export(measurements: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    frames = {}
    for name, value in measurements.items():
        if isinstance(value, pd.DataFrame) and not value.empty:
            frames[name] = value
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            frames[name] = pd.DataFrame(value)
    return frames


def export_csv(frames: dict[str, pd.DataFrame]) -> str:
    """Every measured table in one CSV, with a `measurement` column saying which run each row belongs to."""
    frames = [frame.assign(measurement=name) for name, frame in frames.items()]
    if not frames:
        return ""
    merged = pd.concat(frames, ignore_index=True, sort=False)
    for column in merged.columns:
        if pd.api.types.is_datetime64_any_dtype(merged[column]):
            merged[column] = merged[column].dt.strftime(ISO_UTC)
    return merged.to_csv(index=False)


def export_json(frames: dict[str, pd.DataFrame]) -> str:
    out = {}
    for name, frame in frames.items():
        frame = frame.copy()
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = frame[column].dt.strftime(ISO_UTC)
        out[name] = json.loads(frame.to_json(orient="records", force_ascii=False))
    return json.dumps(out, indent=1, ensure_ascii=False)

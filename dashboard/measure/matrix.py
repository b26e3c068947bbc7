"""Region x region matrices for the Map page: ``modelled_rtt(regions)`` (the network model's round trip between
regions) and ``lag_percentile(lag_frame, regions, q)`` (measured replication lag per source -> destination, from
lag runs' samples). Rows are sources, columns destinations; a pair without a figure (the diagonal, a pair no run
measured) is NaN."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from backend.local import network

PERCENTILES = {"p50": 50, "p90": 90, "p99": 99}


def _empty(regions) -> pd.DataFrame:
    frame = pd.DataFrame(math.nan, index=list(regions), columns=list(regions), dtype="float64")
    frame.index.name, frame.columns.name = "from", "to"
    return frame


def modelled_rtt(regions) -> pd.DataFrame:
    matrix = _empty(regions)
    for source in matrix.index:
        for destination in matrix.columns:
            if source != destination:
                matrix.loc[source, destination] = network.region_rtt_ms(source, destination)
    return matrix


def lag_percentile(lags: pd.DataFrame, regions, percentile: str = "p50") -> pd.DataFrame:
    """``percentile`` (p50 | p90 | p99) of the seen probes' ``lag_ms`` per pair; NaN where none was seen."""
    matrix = _empty(regions)
    if lags is None or lags.empty:
        return matrix
    seen = lags[lags["status"] == "seen"]
    for (source, destination), part in seen.groupby(["source", "destination"]):
        if source in matrix.index and destination in matrix.columns:
            values = part["lag_ms"].to_numpy(dtype="float64")
            values = values[~np.isnan(values)]
            if values.size:
                matrix.loc[source, destination] = float(np.percentile(values, PERCENTILES[percentile]))
    return matrix

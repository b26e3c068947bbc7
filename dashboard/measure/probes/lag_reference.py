"""The system's own replication latency for a probe's window, to set next to what the lag probe measured.

``reference_lag(target_set, source, destinations, start, end, control=None)`` gives ``REFERENCE_COLUMNS`` per pair:
the local cloud's control API (its replicator's ``ReplicationLatency`` samples, from the source's stream record to
the apply in the destination), or CloudWatch's ``ReplicationLatency`` on AWS (``dashboard.measure.aws``;
per-minute averages, so p50 there is a median of averages).
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd

from backend.local.contracts import TABLE_NAME
from dashboard.measure.errors import ProbeError
from dashboard.measure.targets import TargetSet

REFERENCE_COLUMNS = ["source", "destination", "samples", "p50_ms", "mean_ms", "max_ms", "origin"]


def _pairs_of(document) -> list:
    """The per-pair list of a control API answer: ``{"pairs": [...]}``, possibly under ``replication``."""
    if not isinstance(document, dict):
        return []
    if isinstance(document.get("pairs"), list):
        return document["pairs"]
    for key in ("replication", "replicator", "latency"):
        if isinstance(document.get(key), dict):
            pairs = _pairs_of(document[key])
            if pairs:
                return pairs
    return []


def local_reference(
    document, source: str, destinations, start_epoch_s: float, end_epoch_s: float
) -> pd.DataFrame:
    """Per pair, the local replicator's ``ReplicationLatency`` samples of writes made in [start, end] (pure).

    ``document`` is the control API's replication latency answer: ``{"pairs": [{"source", "destination",
    "recent": [{"at": epoch s, "ms": lag}], "p50_ms", "max_ms", ...}]}``. Pairs with no sample in the window
    fall back to their overall p50/max (``origin`` says which)."""
    rows = []
    for pair in _pairs_of(document):
        if pair.get("source") != source or pair.get("destination") not in destinations:
            continue
        # A sample belongs to the window when its *write* does (applied at - lag >= start): a write made before
        # the window but applied inside it is someone else's.
        recent = [
            float(s["ms"])
            for s in pair.get("recent", [])
            if isinstance(s, dict)
            and s.get("ms") is not None
            and s.get("at") is not None
            and start_epoch_s <= float(s["at"]) - float(s["ms"]) / 1000.0
            and float(s["at"]) <= end_epoch_s
        ]
        if recent:
            values = np.asarray(recent)
            rows.append(
                {
                    "source": source,
                    "destination": pair["destination"],
                    "samples": int(values.size),
                    "p50_ms": float(np.percentile(values, 50)),
                    "mean_ms": float(values.mean()),
                    "max_ms": float(values.max()),
                    "origin": "local replicator (window)",
                }
            )
        elif pair.get("p50_ms") is not None:
            rows.append(
                {
                    "source": source,
                    "destination": pair["destination"],
                    "samples": int(pair.get("count") or 0),
                    "p50_ms": float(pair["p50_ms"]),
                    "mean_ms": math.nan,
                    "max_ms": float(pair.get("max_ms") or math.nan),
                    "origin": "local replicator (all time)",
                }
            )
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS).set_index(["source", "destination"])


PENDING = "pending_replication_count"
PENDING_COLUMNS = ["pair", "PendingReplicationCount"]


def pending_replication(document) -> pd.DataFrame:
    """PendingReplicationCount per pair from the control API's latency answer (pure): item updates written in the
    source and not yet in the destination. Empty when the answer has none (an older replicator)."""
    rows = [
        {"pair": f"{pair['source']} → {pair['destination']}", "PendingReplicationCount": int(pair[PENDING])}
        for pair in _pairs_of(document)
        if isinstance(pair.get(PENDING), int)
    ]
    return pd.DataFrame(rows, columns=PENDING_COLUMNS)


def _control_latency_document(control):
    for name in ("replication_latency", "latency", "status"):
        method = getattr(control, name, None)
        if callable(method):
            try:
                document = method()
            except Exception as error:  # ControlError, URLError...: a ProbeError the UI can show
                message = getattr(error, "message", None) or str(error) or type(error).__name__
                raise ProbeError(f"the local cloud's control API did not answer: {message}") from None
            if _pairs_of(document):
                return document
    return None


def reference_lag(
    target_set: TargetSet,
    source: str,
    destinations,
    start,
    end,
    control=None,
    table_name: str = TABLE_NAME,
    session=None,
) -> pd.DataFrame | None:
    """The system's own replication latency for [start, end] (aware datetimes): the local cloud's control API
    when ``control`` is given, else CloudWatch's ``ReplicationLatency`` (AWS). None when neither is available."""
    destinations = list(destinations)
    if control is not None:
        document = _control_latency_document(control)
        if document is None:
            return None
        return local_reference(document, source, destinations, start.timestamp(), end.timestamp())
    if target_set.is_local:
        return None
    from dashboard.measure import aws

    # CloudWatch keeps per-minute points stamped at the start of their minute: widen to whole minutes around it.
    metrics = aws.replication_latency_pairs(
        table_name,
        source,
        destinations,
        start - timedelta(minutes=1),
        end + timedelta(minutes=1),
        session=session,
    )
    rows = []
    for destination, part in metrics.groupby("destination", sort=False):
        weights = part["samples"].fillna(0).to_numpy(dtype="float64")
        averages = part["average_ms"].to_numpy(dtype="float64")
        mean = float((averages * weights).sum() / weights.sum()) if weights.sum() else math.nan
        rows.append(
            {
                "source": source,
                "destination": destination,
                "samples": int(weights.sum()),
                "p50_ms": float(np.median(averages)),
                "mean_ms": mean,
                "max_ms": float(part["maximum_ms"].max()),
                "origin": "CloudWatch (per-minute averages)",
            }
        )
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS).set_index(["source", "destination"])

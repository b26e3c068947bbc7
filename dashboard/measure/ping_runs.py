"""A ``mrkv-probe ping`` run (``ping.run``'s document) as tables, and kept in the run store as a run of kind ``ping``.

The dashboard's "AWS endpoints" page and ``mrkv-probe ping`` both go through here, so a run measured on either is
the same run in the store:

* ``requests_frame(document)``: one row per timed request, the run's ``samples`` frame: ``region``,
  ``connection`` (``new`` | ``warm``), ``seq``, ``ok``, ``error``, the phases (``dns_ms``, ``connect_ms``,
  ``tls_ms``, ``first_byte_ms``, ``total_ms``; a warm request has no DNS, connect or TLS), and for the Compare page
  ``target`` (``<region> new`` | ``<region> warm``) and ``latency_ms`` (its first byte: one round trip + the
  endpoint's time). A region that failed is one row with ``ok`` false and its error.
* ``percentiles_frame(document)``: one row per region, connection and phase: ``n``, ``min``, ``p50``, ``p90``,
  ``p99``, ``max`` (``ping.percentiles``: nearest rank), ``phase`` in words; what the page charts and tabulates.
* ``context(document)``: the run's context (``runs.context``'s fields): environment ``AWS public endpoints``, the
  client location the user declared, network ``internet``, the workload (count, timeout, URL template).
* ``record(store, document)``: the run kept (status complete; summary: the document without its requests).
"""

from __future__ import annotations

import socket

import pandas as pd

from dashboard.measure import ping
from dashboard.measure.runs.context import location_of, model_version, project_version
from dashboard.measure.runs.recorder import Recording
from dashboard.measure.runs.store import RunStore

KIND = "ping"
ENVIRONMENT = "AWS public endpoints"
PHASE_NAMES = {
    "dns_ms": "DNS",
    "connect_ms": "TCP connect",
    "tls_ms": "TLS handshake",
    "first_byte_ms": "first byte",
    "total_ms": "total",
}
REQUEST_COLUMNS = ["region", "connection", "seq", "ok", "error", *ping.NEW_PHASES, "target", "latency_ms"]
PERCENTILE_COLUMNS = ["region", "connection", "phase", "n", "min", "p50", "p90", "p99", "max"]


def requests_frame(document: dict) -> pd.DataFrame:
    rows = []
    for region, result in document["regions"].items():
        if not result["ok"]:
            rows.append(
                {"region": region, "connection": "new", "seq": 0, "ok": False, "error": result["error"]}
            )
            continue
        for request in result.get("requests", []):
            rows.append({"region": region, "ok": True, "error": None, **request})
    df = pd.DataFrame(rows).reindex(columns=REQUEST_COLUMNS)
    df["target"] = df["region"] + " " + df["connection"]
    df["latency_ms"] = df["first_byte_ms"]
    return df


def percentiles_frame(document: dict) -> pd.DataFrame:
    rows = [
        {"region": region, "connection": connection, "phase": PHASE_NAMES[phase], **figures}
        for region, result in document["regions"].items()
        if result["ok"]
        for connection in ("new", "warm")
        for phase, figures in result[connection].items()
    ]
    return pd.DataFrame(rows).reindex(columns=PERCENTILE_COLUMNS)


def errors(document: dict) -> dict[str, str]:
    """{region: error} of the regions that could not be timed."""
    return {region: result["error"] for region, result in document["regions"].items() if not result["ok"]}


def context(document: dict, created_by: str = "cli") -> dict:
    regions = list(document["regions"])
    return {
        "environment": ENVIRONMENT,
        "source": document["url_template"],
        "regions": regions,
        "targets": [f"{region} {connection}" for region in regions for connection in ("new", "warm")],
        "client_location": location_of(document["client_location"], declared=True),
        "network": {"profile": "internet", "model_version": model_version()},
        "workload": {
            "count": document["count"],
            "timeout_s": document["timeout_s"],
            "url_template": document["url_template"],
        },
        "project_version": project_version(),
        "host": socket.gethostname(),
        "created_by": created_by,
    }


def summary(document: dict) -> dict:
    """The document without the individual requests (they are the run's samples)."""
    regions = {
        region: {key: value for key, value in result.items() if key != "requests"}
        for region, result in document["regions"].items()
    }
    return {**document, "regions": regions}


def record(store: RunStore, document: dict, created_by: str = "cli", name: str | None = None) -> str:
    """Keeps the run in ``store``; returns its id."""
    with Recording(store, KIND, context(document, created_by), name=name) as run:
        run.complete({"samples": requests_frame(document)}, summary=summary(document))
    return run.id

"""MREC against MRSC in one call, kept in the run store: what the Consistency page and ``mrkv-probe consistency``
both run (no Streamlit here).

``compare_consistency(settings, store=None, progress=None, on_sample=None, stop=None, created_by="cli", name=None,
sides=None, controls=None)`` starts the two local clouds (``cloud_pair.CloudPair``: same regions, network model and
client location) unless ``sides`` / ``controls`` name running ones, runs ``probes.consistency.run_consistency``
on both, keeps the run (kind ``consistency``, main frame ``samples``, summary = the figures) and stops the clouds.
Returns ``Comparison(samples, figures, run_id)``. ``settings`` (``SETTINGS``): regions, witness, network,
client_location, isolate, writes, trials, isolation_rounds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pandas as pd

from dashboard.measure.cloud_pair import DEFAULT_REGIONS, CloudPair
from dashboard.measure.probes import consistency_figures
from dashboard.measure.probes.consistency import run_consistency

SETTINGS = {
    "regions": list(DEFAULT_REGIONS),
    "witness": None,
    "network": "none",
    "client_location": None,
    "isolate": None,
    "writes": 12,
    "trials": 3,
    "isolation_rounds": 4,
}
WORKLOAD = ("writes", "trials", "isolation_rounds")


@dataclass
class Comparison:
    samples: pd.DataFrame
    figures: dict
    run_id: str | None


def settings_with(**changes) -> dict:
    """``SETTINGS`` with ``changes`` (None leaves a default alone; regions as a list)."""
    settings = {**SETTINGS, "regions": list(SETTINGS["regions"])}
    for key, value in changes.items():
        if key not in SETTINGS:
            raise ValueError(f"unknown consistency setting {key!r}")
        if value is not None:
            settings[key] = list(value) if key == "regions" else value
    return settings


def _context(targets, settings: dict, created_by: str) -> dict:
    from dashboard.measure.runs.context import build_context

    workload = {k: settings[k] for k in ("witness", "isolate", *WORKLOAD)}
    workload["sides"] = ["MREC", "MRSC"]
    return build_context(
        targets, workload, settings["regions"], settings["client_location"], settings["network"], created_by
    )


def _client_location(controls: dict, settings: dict):
    """The client of the clouds (they share it), for the run's context; the setting when the cloud is silent."""
    try:
        status = next(iter(controls.values())).status()
    except Exception:  # the context says "unknown" rather than stopping a measurement
        return settings["client_location"]
    return status.get("client") or settings["client_location"]


def _measure(sides, controls, settings, store, progress, on_sample, stop, created_by, name) -> Comparison:
    workload = {k: settings[k] for k in WORKLOAD}

    def run(sample):
        return run_consistency(
            sides, controls, settings["regions"], settings["isolate"], progress, sample, stop, **workload
        )

    if store is None:
        samples = run(on_sample)
        return Comparison(samples, consistency_figures.figures(samples, settings), None)
    from dashboard.measure.runs.recorder import Recording, now_iso

    shown = {**settings, "client_location": _client_location(controls, settings)}
    context = _context(next(iter(sides.values())), shown, created_by)
    with Recording(store, "consistency", context, name=name) as recording:
        samples = run(recording.tee(on_sample))
        figures = consistency_figures.figures(samples, settings)
        recording.complete({"samples": samples}, figures)
        if stop is not None and stop.is_set():
            store.finish(recording.id, "stopped", now_iso())
    return Comparison(samples, figures, recording.id)


def compare_consistency(
    settings: dict,
    store=None,
    progress=None,
    on_sample=None,
    stop: threading.Event | None = None,
    created_by: str = "cli",
    name: str | None = None,
    sides: dict | None = None,
    controls: dict | None = None,
) -> Comparison:
    settings = settings_with(**settings)
    if sides is not None:
        return _measure(sides, controls, settings, store, progress, on_sample, stop, created_by, name)
    if progress is not None:
        progress(0, 1, f"starting an MREC and an MRSC local cloud in {', '.join(settings['regions'])}")
    pair = CloudPair(
        settings["regions"], settings["witness"], settings["network"], settings["client_location"]
    )
    with pair:
        return _measure(
            pair.targets, pair.controls, settings, store, progress, on_sample, stop, created_by, name
        )

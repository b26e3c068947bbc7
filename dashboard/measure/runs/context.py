"""What a run was measured in: where the client was, which network, which environment, which code.

``build_context(target_set, kind, workload, targets, client_location=None, network_mode=None, status=None,
created_by="cli")`` gives the JSON-ready dict a run keeps (fields in ``CONTEXT_FIELDS``):

* ``environment``: ``local`` (the local cloud, it has a control API), ``aws`` (CloudFormation stacks), or ``file``
  (a targets file); ``source``: where the targets came from.
* ``regions``, ``targets``: the environment's regions, the targets this run measured.
* ``client_location``: ``{"name", "lat", "lon", "declared"}``. Locally the local cloud's client (``declared``
  False); elsewhere the location the user declares, or ``None`` when nobody said.
* ``network``: ``{"profile", "model_version"}``: ``realistic`` / ``none`` locally, ``internet`` elsewhere;
  the model version is a fingerprint of ``backend.local.network``'s constants and places (``MODEL_VERSION`` if
  the module declares one), so runs under another model are told apart.
* ``workload``: the probe's parameters; ``project_version``; ``host``; ``created_by`` (``cli`` | ``dashboard``).

``meaning_differences(contexts)`` names what differs in a way that changes the meaning of a comparison.
"""

from __future__ import annotations

import hashlib
import json
import socket
from functools import lru_cache
from importlib import metadata

from backend.local import network

CONTEXT_FIELDS = (
    "environment", "source", "regions", "targets", "client_location", "network", "workload", "project_version",
    "host", "created_by",
)  # fmt: skip
UNKNOWN = "unknown"


@lru_cache(maxsize=1)
def model_version() -> str:
    declared = getattr(network, "MODEL_VERSION", None)
    if declared:
        return str(declared)
    facts = {
        "constants": [
            network.FIBER_SPEED_KM_PER_S, network.ROUTE_INFLATION, network.FIXED_OVERHEAD_MS,
            network.DEFAULT_JITTER_FRACTION, network.REPLICATION_PROCESSING_MS,
        ],
        "regions": sorted((code, r.lat, r.lon) for code, r in network.REGIONS.items()),
    }  # fmt: skip
    return "sha-" + hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:10]


@lru_cache(maxsize=1)
def project_version() -> str:
    try:
        return metadata.version("multiregion-kv")
    except metadata.PackageNotFoundError:
        return UNKNOWN


def location_of(value, declared: bool = True) -> dict | None:
    """``{"name", "lat", "lon", "declared"}`` from a city / region / "lat,lon" text or a control status' client."""
    if not value:
        return None
    if isinstance(value, dict):
        return {"name": str(value.get("name")), "lat": float(value["lat"]), "lon": float(value["lon"]),
                "declared": declared}  # fmt: skip
    place = network.parse_location(str(value))  # ValueError with the known cities for a typo
    return {"name": place.name, "lat": place.lat, "lon": place.lon, "declared": declared}


def environment_of(target_set) -> str:
    if target_set.control_url:
        return "local"
    return "aws" if str(target_set.source).startswith("CloudFormation") else "file"


def build_context(
    target_set,
    workload: dict,
    targets,
    client_location=None,
    network_mode: str | None = None,
    created_by: str = "cli",
) -> dict:
    environment = environment_of(target_set)
    profile = network_mode or ("internet" if environment != "local" else UNKNOWN)
    return {
        "environment": environment,
        "source": str(target_set.source),
        "regions": list(target_set.regions),
        "targets": list(targets),
        "client_location": location_of(client_location, declared=environment != "local"),
        "network": {"profile": profile, "model_version": model_version()},
        "workload": dict(workload),
        "project_version": project_version(),
        "host": socket.gethostname(),
        "created_by": created_by,
    }


def location_name(context: dict) -> str:
    location = (context or {}).get("client_location") or {}
    return location.get("name") or UNKNOWN


def same_place(a: dict | None, b: dict | None, within_km: float = 25.0) -> bool:
    """Two client locations are the same place when both are known and closer than ``within_km``."""
    if not a or not b:
        return False
    return (
        network.distance_km(
            network.Location("a", a["lat"], a["lon"]), network.Location("b", b["lat"], b["lon"])
        )
        <= within_km
    )


def _network_label(context: dict) -> str:
    net = (context or {}).get("network") or {}
    return f"{net.get('profile', UNKNOWN)} (model {net.get('model_version', UNKNOWN)})"


def meaning_differences(contexts: dict[str, dict]) -> list[str]:
    """One sentence per aspect whose difference changes what the numbers mean: client location, network profile
    or model, environment. ``contexts``: run label -> context."""
    if len(contexts) < 2:
        return []
    notes = []
    locations = {label: (c or {}).get("client_location") for label, c in contexts.items()}
    first = next(iter(locations.values()))
    if any(not same_place(first, other) for other in locations.values()):
        shown = ", ".join(f"{label}: {location_name(c)}" for label, c in contexts.items())
        notes.append(f"The client locations differ ({shown}): round trips include different distances.")
    for aspect, label_of in (
        ("network", _network_label),
        ("environment", lambda c: (c or {}).get("environment", UNKNOWN)),
    ):
        values = {label: label_of(c) for label, c in contexts.items()}
        if len(set(values.values())) > 1:
            shown = ", ".join(f"{label}: {value}" for label, value in values.items())
            notes.append(f"The {aspect} differs ({shown}).")
    return notes

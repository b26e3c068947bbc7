"""The guided tour's vocabulary: its context (targets, control client, the two regions, the key), what a step
returns, and the control API calls it makes, tolerant of the client's method names."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from backend.local import network
from dashboard.measure.targets import TargetSet


@dataclass(frozen=True)
class Chart:
    """A chart to draw: ``dashboard.charts.<kind>(data, **options)``."""

    kind: str
    data: pd.DataFrame
    options: dict = field(default_factory=dict)


@dataclass
class StepResult:
    ok: bool
    summary: str
    table: pd.DataFrame | None = None
    chart: Chart | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class TourContext:
    targets: TargetSet
    control: Any
    home: str
    away: str
    key: str
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    @property
    def regions(self) -> list[str]:
        return list(self.targets.regions)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    explanation: str
    run: Callable[[TourContext], StepResult]


class TourError(Exception):
    """The tour cannot run here (not the local cloud, fewer than two regions...)."""


# -- control API, tolerant of the client's method names --------------------------------------------------------


def _call(control, names: tuple[str, ...], *args):
    for name in names:
        method = getattr(control, name, None)
        if callable(method):
            return method(*args)
    raise TourError(f"the local cloud's control client has none of: {', '.join(names)}")


def pause(control, region: str):
    return _call(control, ("pause_replication", "pause"), region)


def resume(control, region: str):
    return _call(control, ("resume_replication", "resume"), region)


def set_location(control, location: str):
    return _call(control, ("set_client_location", "client_location"), location)


def current_location(control) -> str | None:
    status = _call(control, ("status",))
    if not isinstance(status, dict):
        return None
    location = status.get("client_location")
    if isinstance(location, dict):
        return location.get("name")
    return location


def city_near(region: str) -> str:
    """The client city nearest to a region in the network model (where a user of that region would sit)."""
    return min(
        network.CITIES, key=lambda name: network.distance_km(network.CITIES[name], network.region(region))
    )


def new_key() -> str:
    return f"tour-{time.time_ns() // 1000}"


def context(targets: TargetSet, control, key: str | None = None) -> TourContext:
    if control is None:
        raise TourError(
            "The guided tour drives the local cloud (pausing replication, moving the client, taking a "
            "region down): choose 'Local cloud' in the sidebar."
        )
    regions = list(targets.regions)
    if len(regions) < 2:
        raise TourError("The guided tour needs at least two regions.")
    home = "us-west-2" if "us-west-2" in regions else regions[0]
    away = (
        "eu-central-1"
        if "eu-central-1" in regions and home != "eu-central-1"
        else next(r for r in regions if r != home)
    )
    return TourContext(targets, control, home, away, key or new_key())

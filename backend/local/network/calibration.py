""""Calibrate the local cloud to my network": a client location made of the user's own measurements.

A ``mrkv-probe ping`` run (a JSON file, written by ``dashboard/measure/ping``) holds, per region, the time to first
byte of requests on a warm HTTPS connection to that region's public DynamoDB endpoint: one round trip plus the
endpoint's own (small) time, which is what a DynamoDB client with keep-alive waits per request. The location
``ping:PATH`` is the run's declared client location (for the map and for regions the run lacks, which keep the
built-in model) whose round trip to each region the run measured is that region's warm first-byte median, with a
tail fitted to the run (``tails.from_measurements``).

    mrkv-local up --client-location ping:.local/ping/ping-20261201T101500Z.json
"""

from __future__ import annotations

import json
from pathlib import Path

from backend.local.network import tails
from backend.local.network.places import REGIONS, Location
from backend.local.network.places import parse_location as parse_place

PREFIX = "ping:"
RUN_KIND = "mrkv-probe ping"


def _region_figures(code: str, figures) -> tuple[float, tails.Tail] | None:
    try:
        warm = figures["warm"]["first_byte_ms"]
        minimum, p50, p90 = float(warm["min"]), float(warm["p50"]), float(warm["p90"])
    except (KeyError, TypeError, ValueError):
        return None
    if not 0 < p50 < 60_000:
        return None
    return p50, tails.from_measurements(minimum, p50, p90)


def calibrated_location(run: dict, source: str = "a ping run") -> Location:
    """The client of a ping run: its declared location, with the measured regions' medians and tails."""
    if not isinstance(run, dict) or run.get("kind") != RUN_KIND:
        raise ValueError(f"{source} is not a '{RUN_KIND}' run file")
    declared = parse_place(str(run.get("client_location") or "")) if run.get("client_location") else None
    measured = {}
    for code, figures in (run.get("regions") or {}).items():
        if code in REGIONS:
            calibrated = _region_figures(code, figures)
            if calibrated is not None:
                measured[code] = calibrated
    if not measured:
        raise ValueError(f"{source} has no region with warm first-byte figures: nothing to calibrate from")
    lat, lon = (declared.lat, declared.lon) if declared else (0.0, 0.0)
    name = f"{declared.name if declared else 'unknown place'} (measured {len(measured)} regions)"
    return Location(name, lat, lon, region=None, measured=measured)


def load(path) -> Location:
    path = Path(path)
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read the ping run {path}: {error.strerror or error}") from None
    except ValueError:
        raise ValueError(f"the ping run {path} is not valid JSON") from None
    return calibrated_location(run, str(path))


def builtin(location: Location) -> Location:
    """The same place without the user's measurements: what the built-in model says for it."""
    return Location(location.name, location.lat, location.lon, region=location.region)


def absolute(text: str) -> str:
    """The same location text, a ``ping:`` path made absolute (processes started elsewhere read the same file)."""
    if isinstance(text, str) and text.strip().startswith(PREFIX):
        return PREFIX + str(Path(text.strip()[len(PREFIX):].strip()).resolve())
    return text


def parse_location(text: str) -> Location:
    """A client location: ``ping:PATH`` (a ping run: the user's own network), or a city, region code or lat,lon."""
    if isinstance(text, str) and text.strip().startswith(PREFIX):
        return load(text.strip()[len(PREFIX):].strip())
    return parse_place(text)

"""Where the regions and the clients are, and how far apart: names, coordinates, parsing, great circles.

Pure (no I/O). The round trips built on these distances are in ``model.py``.

* Distance is the great-circle (haversine) distance on a sphere of radius 6,371 km (the mean Earth radius, IUGG).
* Light in optical fiber travels at about c / 1.47 ≈ 204,000 km/s (refractive index of silica fiber ≈ 1.47);
  the usual rule of thumb is 200,000 km/s, i.e. 1 ms of round trip per 100 km of distance. ``fiber_floor_rtt_ms``
  is that physical floor: no route could beat it.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

EARTH_RADIUS_KM = 6371.0
FIBER_SPEED_KM_PER_S = 200_000.0


@dataclass(frozen=True)
class Location:
    """A point on Earth with a display name; ``region`` when it is an AWS region's own site (a client placed in a
    region sees that region's measured round trips), ``measured`` when the user's own measurements stand for it
    (region code → (median round trip ms, tail), from a ``mrkv-probe ping`` run: ``calibration.py``)."""

    name: str
    lat: float
    lon: float
    region: str | None = None
    measured: Mapping | None = field(default=None, compare=False, hash=False, repr=False)


class _Place:
    """What a region and a city share: a point on Earth (``lat``, ``lon``) and a field that names it there."""

    _location_name: ClassVar[str]  # the field whose value is the location's display name
    lat: float
    lon: float

    @property
    def location(self) -> Location:
        return Location(getattr(self, self._location_name), self.lat, self.lon)


@dataclass(frozen=True)
class Region(_Place):
    """An AWS commercial region: its code, AWS's display name, and the city it sits next to."""

    _location_name: ClassVar[str] = "city"
    code: str
    name: str
    city: str
    lat: float
    lon: float

    @property
    def location(self) -> Location:
        return Location(self.city, self.lat, self.lon, region=self.code)


@dataclass(frozen=True)
class City(_Place):
    """A place where a client may sit."""

    _location_name: ClassVar[str] = "name"
    name: str
    country: str
    continent: str
    lat: float
    lon: float


# Approximate coordinates of the metro area each region is in (AWS publishes the metro, not the data-centre sites).
_REGION_ROWS = [
    ("us-east-1", "US East (N. Virginia)", "Ashburn", 39.04, -77.49),
    ("us-east-2", "US East (Ohio)", "Columbus", 39.96, -83.00),
    ("us-west-1", "US West (N. California)", "San Jose", 37.34, -121.89),
    ("us-west-2", "US West (Oregon)", "Boardman", 45.84, -119.70),
    ("ca-central-1", "Canada (Central)", "Montreal", 45.50, -73.57),
    ("ca-west-1", "Canada West (Calgary)", "Calgary", 51.05, -114.07),
    ("mx-central-1", "Mexico (Central)", "Querétaro", 20.59, -100.39),
    ("sa-east-1", "South America (São Paulo)", "São Paulo", -23.55, -46.63),
    ("eu-central-1", "Europe (Frankfurt)", "Frankfurt", 50.11, 8.68),
    ("eu-central-2", "Europe (Zurich)", "Zurich", 47.37, 8.54),
    ("eu-west-1", "Europe (Ireland)", "Dublin", 53.35, -6.26),
    ("eu-west-2", "Europe (London)", "London", 51.51, -0.13),
    ("eu-west-3", "Europe (Paris)", "Paris", 48.86, 2.35),
    ("eu-south-1", "Europe (Milan)", "Milan", 45.46, 9.19),
    ("eu-south-2", "Europe (Spain)", "Zaragoza", 41.65, -0.88),
    ("eu-north-1", "Europe (Stockholm)", "Stockholm", 59.33, 18.07),
    ("il-central-1", "Israel (Tel Aviv)", "Tel Aviv", 32.09, 34.78),
    ("me-south-1", "Middle East (Bahrain)", "Manama", 26.23, 50.59),
    ("me-central-1", "Middle East (UAE)", "Dubai", 25.20, 55.27),
    ("af-south-1", "Africa (Cape Town)", "Cape Town", -33.92, 18.42),
    ("ap-east-1", "Asia Pacific (Hong Kong)", "Hong Kong", 22.32, 114.17),
    ("ap-east-2", "Asia Pacific (Taipei)", "Taipei", 25.03, 121.57),
    ("ap-south-1", "Asia Pacific (Mumbai)", "Mumbai", 19.08, 72.88),
    ("ap-south-2", "Asia Pacific (Hyderabad)", "Hyderabad", 17.39, 78.49),
    ("ap-southeast-1", "Asia Pacific (Singapore)", "Singapore", 1.35, 103.82),
    ("ap-southeast-2", "Asia Pacific (Sydney)", "Sydney", -33.87, 151.21),
    ("ap-southeast-3", "Asia Pacific (Jakarta)", "Jakarta", -6.21, 106.85),
    ("ap-southeast-4", "Asia Pacific (Melbourne)", "Melbourne", -37.81, 144.96),
    ("ap-southeast-5", "Asia Pacific (Malaysia)", "Kuala Lumpur", 3.14, 101.69),
    ("ap-southeast-6", "Asia Pacific (New Zealand)", "Auckland", -36.85, 174.76),
    ("ap-southeast-7", "Asia Pacific (Thailand)", "Bangkok", 13.76, 100.50),
    ("ap-northeast-1", "Asia Pacific (Tokyo)", "Tokyo", 35.68, 139.69),
    ("ap-northeast-2", "Asia Pacific (Seoul)", "Seoul", 37.57, 126.98),
    ("ap-northeast-3", "Asia Pacific (Osaka)", "Osaka", 34.69, 135.50),
]
REGIONS: dict[str, Region] = {row[0]: Region(*row) for row in _REGION_ROWS}

_CITY_ROWS = [
    # North America
    ("Seattle", "United States", "North America", 47.61, -122.33),
    ("San Francisco", "United States", "North America", 37.77, -122.42),
    ("Los Angeles", "United States", "North America", 34.05, -118.24),
    ("Chicago", "United States", "North America", 41.88, -87.63),
    ("New York", "United States", "North America", 40.71, -74.01),
    ("Toronto", "Canada", "North America", 43.65, -79.38),
    ("Mexico City", "Mexico", "North America", 19.43, -99.13),
    ("Honolulu", "United States", "North America", 21.31, -157.86),
    # South America
    ("São Paulo", "Brazil", "South America", -23.55, -46.63),
    ("Buenos Aires", "Argentina", "South America", -34.60, -58.38),
    ("Bogotá", "Colombia", "South America", 4.71, -74.07),
    ("Lima", "Peru", "South America", -12.05, -77.04),
    # Europe
    ("London", "United Kingdom", "Europe", 51.51, -0.13),
    ("Paris", "France", "Europe", 48.86, 2.35),
    ("Frankfurt", "Germany", "Europe", 50.11, 8.68),
    ("Berlin", "Germany", "Europe", 52.52, 13.40),
    ("Madrid", "Spain", "Europe", 40.42, -3.70),
    ("Stockholm", "Sweden", "Europe", 59.33, 18.07),
    ("Warsaw", "Poland", "Europe", 52.23, 21.01),
    ("Istanbul", "Turkey", "Europe", 41.01, 28.98),
    # Africa
    ("Cairo", "Egypt", "Africa", 30.04, 31.24),
    ("Lagos", "Nigeria", "Africa", 6.52, 3.38),
    ("Nairobi", "Kenya", "Africa", -1.29, 36.82),
    ("Johannesburg", "South Africa", "Africa", -26.20, 28.05),
    # Asia
    ("Dubai", "United Arab Emirates", "Asia", 25.20, 55.27),
    ("Mumbai", "India", "Asia", 19.08, 72.88),
    ("Delhi", "India", "Asia", 28.61, 77.21),
    ("Singapore", "Singapore", "Asia", 1.35, 103.82),
    ("Hong Kong", "China", "Asia", 22.32, 114.17),
    ("Beijing", "China", "Asia", 39.90, 116.41),
    ("Seoul", "South Korea", "Asia", 37.57, 126.98),
    ("Tokyo", "Japan", "Asia", 35.68, 139.69),
    # Oceania
    ("Sydney", "Australia", "Oceania", -33.87, 151.21),
    ("Perth", "Australia", "Oceania", -31.95, 115.86),
    ("Auckland", "New Zealand", "Oceania", -36.85, 174.76),
    # Antarctica
    ("McMurdo Station", "Antarctica", "Antarctica", -77.85, 166.67),
]
CITIES: dict[str, City] = {row[0]: City(*row) for row in _CITY_ROWS}

DEFAULT_CLIENT_LOCATION = "Seattle"


def _fold(text: str) -> str:
    """Case- and accent-insensitive form of a name, so "sao paulo" finds "São Paulo"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


_CITY_BY_FOLDED = {_fold(name): city for name, city in CITIES.items()}


def parse_location(text: str) -> Location:
    """A client location from a city name (case- and accent-insensitive), a region code (a client inside that
    region), or "lat,lon"."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(
            "A location is a city name (e.g. 'Frankfurt'), a region code (e.g. 'us-east-1') or 'lat,lon'"
            " (e.g. '50.1,8.7'); got nothing."
        )
    folded = _fold(text)
    if folded in _CITY_BY_FOLDED:
        return _CITY_BY_FOLDED[folded].location
    if folded in REGIONS:
        return REGIONS[folded].location
    parts = text.split(",")
    if len(parts) == 2:
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            pass
        else:
            if (
                not (math.isfinite(lat) and math.isfinite(lon))
                or not -90 <= lat <= 90
                or not -180 <= lon <= 180
            ):
                raise ValueError(
                    f"Coordinates out of range in {text!r}: latitude must be in [-90, 90], longitude in [-180, 180]."
                )
            return Location(f"{lat:.2f},{lon:.2f}", lat, lon)
    known = ", ".join(sorted(CITIES))
    raise ValueError(
        f"Unknown location {text!r}: give a region code (e.g. 'us-east-1'), 'lat,lon' (e.g. '50.1,8.7') or one of:"
        f" {known}."
    )


def region(code: str) -> Region:
    """The region for an AWS region code, with a clear error for an unknown one."""
    try:
        return REGIONS[code]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown AWS region {code!r}; known regions: {', '.join(sorted(REGIONS))}."
        ) from None


def _point(place) -> tuple[float, float]:
    """(lat, lon) of a Location, Region, City or region code."""
    if isinstance(place, str):
        place = region(place)
    return float(place.lat), float(place.lon)


def distance_km(a, b) -> float:
    """Great-circle distance (haversine) between two places, in km."""
    lat1, lon1 = map(math.radians, _point(a))
    lat2, lon2 = map(math.radians, _point(b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def fiber_floor_rtt_ms(a, b) -> float:
    """The physical floor: there and back along the great circle at the speed of light in fiber."""
    return 2 * distance_km(a, b) / FIBER_SPEED_KM_PER_S * 1000.0


def region_code(place) -> str | None:
    """The AWS region a place is (a code, a Region, or a Location placed in a region), else None."""
    if isinstance(place, str):
        return region(place).code
    if isinstance(place, Region):
        return place.code
    return getattr(place, "region", None)

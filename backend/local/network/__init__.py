"""How the planet looks to the local cloud: where the regions and the clients are, and how long a round trip takes.

- ``places.py``: regions, client cities, parsing a location, great circles and the fiber floor;
- ``measured.py`` + ``data/``: the measured inter-region medians (cloudping, one year) shipped as data;
- ``fit.py``: the distance formula's constants fitted to that data, with held-out error;
- ``tails.py``: heavy-tailed samples (shifted log-normal) around a median;
- ``tail_data.py`` + ``data/``: the measured p90/p50 per pair of regions (cloudping) and each pair's tail;
- ``model.py``: median round trips, samples, replication delays;
- ``calibration.py``: a client made of the user's own ``mrkv-probe ping`` run (``ping:PATH``).

docs/NETWORK-MODEL.md explains the data, the formulas, the fitted constants and their errors.
"""

from backend.local.network.calibration import absolute as absolute_location
from backend.local.network.calibration import builtin as builtin_location
from backend.local.network.calibration import parse_location
from backend.local.network.model import (
    DEFAULT_JITTER_FRACTION,
    FIXED_OVERHEAD_MS,
    NETWORK_MODES,
    REPLICATION_PROCESSING_MS,
    ROUTE_INFLATION,
    LatencyModel,
    check_mode,
    formula_rtt_ms,
    modelled_rtt_ms,
    nearest_regions,
    region_rtt_ms,
    replication_delay_ms,
    rtt_percentiles_ms,
    rtt_source,
)
from backend.local.network.places import (
    CITIES,
    DEFAULT_CLIENT_LOCATION,
    EARTH_RADIUS_KM,
    FIBER_SPEED_KM_PER_S,
    REGIONS,
    City,
    Location,
    Region,
    distance_km,
    fiber_floor_rtt_ms,
    region,
    region_code,
)

__all__ = [
    "absolute_location",
    "builtin_location",
    "CITIES",
    "DEFAULT_CLIENT_LOCATION",
    "DEFAULT_JITTER_FRACTION",
    "EARTH_RADIUS_KM",
    "FIBER_SPEED_KM_PER_S",
    "FIXED_OVERHEAD_MS",
    "NETWORK_MODES",
    "REGIONS",
    "REPLICATION_PROCESSING_MS",
    "ROUTE_INFLATION",
    "City",
    "LatencyModel",
    "Location",
    "Region",
    "check_mode",
    "distance_km",
    "fiber_floor_rtt_ms",
    "formula_rtt_ms",
    "modelled_rtt_ms",
    "nearest_regions",
    "parse_location",
    "region",
    "region_code",
    "region_rtt_ms",
    "replication_delay_ms",
    "rtt_percentiles_ms",
    "rtt_source",
]

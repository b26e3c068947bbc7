"""Chart builders: each takes measurements (a DataFrame or plain values) and returns a plotly figure.

Nothing here measures or talks to the network; the engine (``dashboard.measure``) produces the numbers, these
functions draw them. Conventions, so that every chart reads the same on a projector:
- one colour per region, the same in every chart (``palette.region_color``); every colour is in ``palette``;
- every figure has a title, and latency axes say "ms" and start at zero, or are logarithmic when a page's
  "Log scale" toggle is on (``style.ms_axes``);
- large runs stay fast: distributions are drawn from precomputed quantiles and ECDFs from a bounded number of
  points, so the browser receives kilobytes, not the raw samples; only the time series draws every sample,
  with WebGL (``Scattergl``) once a run is large.

By page: ``compare`` (runs side by side), ``latency``, ``replication``, ``regions`` (playground, resilience), ``world`` and ``matrix`` (the map), ``ping`` (AWS endpoints), ``consistency`` (MREC
next to MRSC). The pages call
them through this package (``charts.latency_ecdf(...)``).
"""

from dashboard.charts.compare import compare_boxes, compare_ecdf
from dashboard.charts.consistency import availability, conflict_outcomes, stale_reads, write_latency
from dashboard.charts.latency import (
    ECDF_POINTS,
    WEBGL_THRESHOLD,
    latency_breakdown,
    latency_distribution,
    latency_ecdf,
    latency_histogram,
    latency_timeseries,
)
from dashboard.charts.matrix import region_matrix
from dashboard.charts.palette import color_map, region_color
from dashboard.charts.ping import ping_phases
from dashboard.charts.regions import failover_timeline, geo_reads, region_latency_bars
from dashboard.charts.replication import lag_distribution, lag_timeseries, value_timeline
from dashboard.charts.style import log_scale, successful
from dashboard.charts.world import world_map

__all__ = [
    "ECDF_POINTS",
    "WEBGL_THRESHOLD",
    "availability",
    "color_map",
    "compare_boxes",
    "compare_ecdf",
    "conflict_outcomes",
    "failover_timeline",
    "geo_reads",
    "lag_distribution",
    "lag_timeseries",
    "latency_breakdown",
    "latency_distribution",
    "latency_ecdf",
    "latency_histogram",
    "latency_timeseries",
    "log_scale",
    "ping_phases",
    "region_color",
    "region_latency_bars",
    "region_matrix",
    "stale_reads",
    "successful",
    "value_timeline",
    "world_map",
    "write_latency",
]

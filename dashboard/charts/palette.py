"""The dashboard's one palette: every colour a chart uses is named here, so that a region, an error or a
reference marker looks the same in every chart, every session and every screenshot."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# Fixed colours for the regions a demo is likely to use, so that us-west-2 is the same blue in every chart (and on
# the map), every session and every screenshot. Okabe-Ito first, then Paul Tol's "muted" scheme: both are made to
# stay distinguishable for colour-blind viewers, and hold up on washed-out projectors.
_FIXED_COLORS = {
    "us-west-2": "#0072B2",
    "eu-central-1": "#E69F00",
    "ap-northeast-1": "#009E73",
    "us-east-1": "#CC79A7",
    "eu-west-1": "#D55E00",
    "ap-southeast-2": "#56B4E9",
    "sa-east-1": "#882255",
    "ap-south-1": "#332288",
    "us-east-2": "#999933",
    "eu-west-2": "#44AA99",
    "global": "#333333",
}
# Regions not listed above get a colour of Paul Tol's colour-blind-safe "muted" scheme, by a stable hash of the name.
_FALLBACK_PALETTE = [
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
]

# Failures and reference values (the physical floor, the reported ReplicationLatency): one red everywhere.
ALERT_RED = "#C00000"
# Where the time goes: network, the function outside DynamoDB, DynamoDB.
NETWORK_GREY = "#7F7F7F"
FUNCTION_BLUE = "#4C72B0"
DYNAMODB_ORANGE = "#DD8452"
# Event marks (a region going down or up), text and outlines.
EVENT_GREY = "#555555"
INK = "#111111"
WHITE = "white"
# The world map.
LAND = "#EDEDED"
BORDERS = "#BBBBBB"
OCEAN = "#F4F8FB"


def region_color(name: str) -> str:
    """The colour of a region (or of the geo-routed 'global' target) in every chart."""
    name = str(name)
    if name in _FIXED_COLORS:
        return _FIXED_COLORS[name]
    digest = hashlib.sha1(name.encode("utf-8")).digest()
    return _FALLBACK_PALETTE[digest[0] % len(_FALLBACK_PALETTE)]


def color_map(names: Iterable[str]) -> dict[str, str]:
    return {str(name): region_color(name) for name in names}


# Runs side by side (the Compare page): run A, B, C… as line dashes on the region colours, and as box colours.
RUN_DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
_RUN_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9"]


def run_dash(index: int) -> str:
    return RUN_DASHES[index % len(RUN_DASHES)]


def run_color(index: int) -> str:
    return _RUN_COLORS[index % len(_RUN_COLORS)]


# Region x region matrices: green (near) to red (far), one colour per band, as cloudping draws them.
MATRIX_BANDS = ["#1A9850", "#91CF60", "#FEE08B", "#FC8D59", "#D73027"]

# The phases of an HTTPS request to an AWS endpoint (the AWS endpoints page): one colour per phase, new
# connections in Okabe-Ito hues, the warm request in black like the answer it is.
PHASE_COLORS = {
    "new: DNS": "#56B4E9",
    "new: TCP connect": "#009E73",
    "new: TLS handshake": "#E69F00",
    "new: first byte": "#0072B2",
    "warm: first byte": "#111111",
}

# MREC next to MRSC (the Consistency page): one colour per kind of global table, and per fate of a write or read.
SIDE_COLORS = {"MREC": "#E69F00", "MRSC": "#0072B2"}
OUTCOME_COLORS = {
    "kept": "#009E73",
    "superseded": "#56B4E9",
    "lost": ALERT_RED,
    "rejected": "#CC79A7",
    "failed": NETWORK_GREY,
}


def side_color(side: str) -> str:
    return SIDE_COLORS.get(str(side), INK)

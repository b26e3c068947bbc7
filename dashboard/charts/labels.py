"""Map labels that never overlap and sit by their own dot: a greedy placement in map degrees (pure, testable).

A label is a box ``len(text) x CHAR_DEG`` wide and ``LINE_DEG`` high (the map's fonts at its usual size, in
degrees of the natural-earth world view). Region labels try the eight sides of their dot (``POSITIONS``), then the
same sides one and two label-heights farther out (``RINGS``; the map draws a thin leader line to those), and take
the first whose box touches no label placed so far and no other dot; latency labels slide along their line
(``FRACTIONS``), then just beside it, the same way. When nothing is free, the least-overlapping choice wins."""

from __future__ import annotations

# Measured on the Map page's screenshot (a 560 px high world view, ~2.7 px per degree): a 16 px label is ~3.4 degrees
# a character wide and ~7 degrees high.
CHAR_DEG = 3.4
LINE_DEG = 7.0
DOT_DEG = 4.0
GAP_DEG = 1.0
# Around the dot: (x, y) direction of the label's centre.
POSITIONS = {
    "top": (0, 1),
    "bottom": (0, -1),
    "right": (1, 0),
    "left": (-1, 0),
    "top right": (1, 1),
    "top left": (-1, 1),
    "bottom right": (1, -1),
    "bottom left": (-1, -1),
}
RINGS = (1, 2, 3)
FRACTIONS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)

Box = tuple[float, float, float, float]  # lon0, lat0, lon1, lat1


def _box(lon: float, lat: float, text: str) -> Box:
    half_w, half_h = len(text) * CHAR_DEG / 2, LINE_DEG / 2
    return lon - half_w, lat - half_h, lon + half_w, lat + half_h


def _overlap(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0


def _cost(box: Box, taken: list[Box]) -> float:
    return sum(_overlap(box, other) for other in taken)


def label_centre(lon: float, lat: float, text: str, position: str, ring: int = 1) -> tuple[float, float]:
    """The centre of a label at ``position`` around the dot at (lon, lat); ring 1 next to it, 2 and 3 farther."""
    dx, dy = POSITIONS[position]
    half_w, half_h = len(text) * CHAR_DEG / 2, LINE_DEG / 2
    out = (ring - 1) * (LINE_DEG + GAP_DEG)
    x = dx * (half_w + DOT_DEG / 2 + GAP_DEG)
    y = dy * (half_h + DOT_DEG / 2 + GAP_DEG + out) if dy else out * (1 if ring % 2 == 0 else -1)
    return lon + x, lat + y


def label_box(lon: float, lat: float, text: str, position: str, ring: int = 1) -> Box:
    """The box a label at ``position`` (and ``ring``) around the dot at (lon, lat) covers."""
    return _box(*label_centre(lon, lat, text, position, ring), text)


def place_region_labels(points: list[tuple[str, float, float]], taken: list[Box] | None = None):
    """``points``: (text, lon, lat) of each dot -> ({text: (position, ring)}, every box taken, dots included)."""
    taken = list(taken or [])
    taken += [
        (lon - DOT_DEG / 2, lat - DOT_DEG / 2, lon + DOT_DEG / 2, lat + DOT_DEG / 2) for _, lon, lat in points
    ]
    placed = {}
    candidates = [(position, ring) for ring in RINGS for position in POSITIONS]
    # The crowded ones first (most neighbours within a label's reach), so they get the free sides.
    order = sorted(
        points, key=lambda p: -sum(abs(p[1] - q[1]) < 15 and abs(p[2] - q[2]) < 10 for q in points)
    )
    for text, lon, lat in order:
        costs = [_cost(label_box(lon, lat, text, *candidate), taken) for candidate in candidates]
        best = candidates[costs.index(min(costs))]  # the first free one, else the least overlapping
        placed[text] = best
        taken.append(label_box(lon, lat, text, *best))
    return placed, taken


def place_line_labels(lines: list[tuple[str, float, float, float, float]], taken: list[Box]):
    """``lines``: (text, lon0, lat0, lon1, lat1) -> [(lon, lat)] where each label sits, on its own line."""
    spots = []
    for text, lon0, lat0, lon1, lat1 in lines:
        on_line = [(lon0 + f * (lon1 - lon0), lat0 + f * (lat1 - lat0)) for f in FRACTIONS]
        # Then just beside the line (a short line, e.g. a client next to its region, has no room on it).
        beside = [(lon, lat + side * LINE_DEG) for side in (1, -1, 2, -2) for lon, lat in on_line]
        options = on_line + beside
        costs = [_cost(_box(*spot, text), taken) for spot in options]
        spot = options[costs.index(min(costs))]
        taken.append(_box(*spot, text))
        spots.append(spot)
    return spots

"""The replicator's housekeeping thread: saves the state file when something changed, and tells each region
process what every pair has durably done: the region never trims a stream record past it (its 24-hour retention
and its cap per shard yield to it, ``backend/local/dynamodb/stream_retention.py``). The first word goes out at
start, so a region knows from then on that a replicator guards its stream."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable

from backend.local.memory import return_free_heap_to_the_os

log = logging.getLogger("backend.local.replicator")

SAVE_INTERVAL_S = 0.2
TRIM_INTERVAL_S = 5.0


def run(
    stopping: threading.Event,
    clock: Callable[[], float],
    dirty: threading.Event,
    save: Callable[[], None],
    trim: Callable[[], None],
) -> None:
    """Until ``stopping``: ``save()`` when ``dirty``, ``trim()`` at start and every few seconds."""
    last_trim = clock() - 2 * TRIM_INTERVAL_S
    next_save = 0.0
    while not stopping.wait(SAVE_INTERVAL_S):
        if dirty.is_set() and time.monotonic() >= next_save:
            started = time.monotonic()
            save()
            # A slow save (a busy disk) comes less often: at most ~5% of the time goes to saving.
            next_save = started + 20 * (time.monotonic() - started)
        now = clock()
        if now - last_trim > TRIM_INTERVAL_S:
            last_trim = now
            trim()
            return_free_heap_to_the_os()


def trim_streams(region_admin: dict[str, str], saved: dict[str, tuple[str | None, int | None]]) -> None:
    """Tells each region process what every pair has durably done (``saved``: per source, the stream ARN and the
    sequence of the last saved state): records up to it may be trimmed (after 24 h, or over the cap), later ones
    never."""
    for src, url in region_admin.items():
        stream, upto = saved.get(src, (None, None))
        # The stream ARN lets the region refuse a checkpoint of its previous table (it restarted since).
        body = json.dumps({"upto": None if upto is None else str(upto), "stream": stream}).encode()
        request = urllib.request.Request(
            url.rstrip("/") + "/__admin/stream/trim",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(request, timeout=2).read()
        except Exception as error:  # the region may be down; trimming is only housekeeping
            log.info("%s: trim request failed: %s", src, error)

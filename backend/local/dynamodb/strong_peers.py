"""How a region reaches the other regions of its MRSC tables: their doors, the network model's round trip, and
isolation. ``strong_protocol.py`` decides what to ask; this module only carries the question and times the answer.

- **Doors**: each region's in-process door (``POST {admin}/__admin/dynamodb``, ``X-Amz-Target:
  MrkvReplication_20261201.<Operation>``), told to every region by the cloud once all have started (``POST
  /__admin/peers``). A region with no known door is unreachable.
- **Round trips**: every call to region P counts as answered no earlier than one round trip from here to P, sampled
  from the network model (``set_round_trip``; none with network "none"): ``ask_all`` returns answers in the order
  they would arrive, so "the first accept" is the nearest region's when it accepts.
- **Isolation** (control API ``POST /regions/{r}/isolate``): an isolated region reaches nobody and answers nobody,
  so its strongly consistent writes and reads fail while the other two go on.

One keep-alive ``http.client`` connection per thread and door; calls run on a small pool (a write asks all its
peers at once).
"""

from __future__ import annotations

import http.client
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

TARGET_PREFIX = "MrkvReplication_20261201"
CALL_TIMEOUT_S = 5.0
UNREACHABLE = "unreachable"


class _State:
    def __init__(self):
        self.doors: dict[str, str] = {}
        self.isolated = False
        self.round_trip_ms: Callable[[str, str], float] = lambda _a, _b: 0.0


_state = _State()
_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="mrsc-peer")
_connections = threading.local()


def set_doors(doors: dict[str, str]) -> None:
    """Region → its door URL (``http://127.0.0.1:P/__admin/dynamodb``)."""
    if not isinstance(doors, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.startswith("http://") for k, v in doors.items()
    ):
        raise ValueError('"doors" must map region names to http:// door URLs')
    _state.doors = dict(doors)


def doors() -> dict[str, str]:
    return dict(_state.doors)


def set_round_trip(function: Callable[[str, str], float]) -> None:
    """``function(from_region, to_region)`` → one sampled round trip in ms (the region's network model)."""
    _state.round_trip_ms = function


def set_isolated(isolated: bool) -> None:
    _state.isolated = bool(isolated)


def is_isolated() -> bool:
    return _state.isolated


def ask_all(
    own: str, peers, operation: str, request: dict, started: float | None = None
) -> Iterator[tuple[str, dict | str]]:
    """Asks every peer at once; yields (peer, answer) in the order the answers would arrive over the modelled
    network, an answer being the door's JSON document or ``UNREACHABLE``. Stop iterating when you have enough:
    the other calls finish on their own. ``started`` (``time.monotonic()``): when the round trips start counting,
    by default now; a write passes the moment it began, so that the emulator's own work for it overlaps the
    modelled round trip instead of adding to it (on AWS that work is there under MREC too)."""
    peers = list(peers)
    answers: queue.Queue = queue.Queue()
    started = time.monotonic() if started is None else started
    for peer in peers:
        _pool.submit(_ask_one, own, peer, operation, request, started, answers)
    for _ in peers:
        yield answers.get()


def _ask_one(own: str, peer: str, operation: str, request: dict, started: float, answers: queue.Queue) -> None:
    try:
        answer = _call(peer, operation, request) if not _state.isolated else UNREACHABLE
    except Exception:  # noqa: BLE001 - a peer that does not answer is unreachable, whatever the reason
        answer = UNREACHABLE
    if answer != UNREACHABLE:
        # The answer arrives one modelled round trip after the question left (or later, if the call took longer).
        due = started + _state.round_trip_ms(own, peer) / 1000.0
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    answers.put((peer, answer))


def _call(peer: str, operation: str, request: dict) -> dict | str:
    url = _state.doors.get(peer)
    if url is None:
        return UNREACHABLE
    parts = urlsplit(url)
    body = json.dumps(request).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"{TARGET_PREFIX}.{operation}"}
    for attempt in (1, 2):  # a kept-alive connection the peer closed: once more on a new one
        connection = _connection(parts.hostname, parts.port)
        try:
            connection.request("POST", parts.path, body, headers)
            response = connection.getresponse()
            answered = response.read()
        except (http.client.HTTPException, OSError):
            _drop_connection(parts.hostname, parts.port)
            if attempt == 2:
                raise
            continue
        if response.status != 200:
            return UNREACHABLE  # isolated (503) or failing: either way no answer
        return json.loads(answered)
    return UNREACHABLE


def _connection(host: str, port: int) -> http.client.HTTPConnection:
    cache = getattr(_connections, "cache", None)
    if cache is None:
        cache = _connections.cache = {}
    connection = cache.get((host, port))
    if connection is None:
        connection = cache[(host, port)] = http.client.HTTPConnection(host, port, timeout=CALL_TIMEOUT_S)
    return connection


def _drop_connection(host: str, port: int) -> None:
    connection = getattr(_connections, "cache", {}).pop((host, port), None)
    if connection is not None:
        connection.close()

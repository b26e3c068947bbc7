"""How long a change waits before it is applied in a destination: the network model's delay for the pair, or the
override set through the admin API (``POST /delay``). Its own lock, a leaf: readers ask it while holding others."""

from __future__ import annotations

import functools
import logging
import threading

from backend.local.network import replication_delay_ms

log = logging.getLogger("backend.local.replicator")

FALLBACK_REALISTIC_DELAY_MS = 100  # only for a region the network model doesn't know


@functools.lru_cache(maxsize=4096)  # deterministic per pair and mode; asked once per record and destination
def _delay_from_network_model(src: str, dst: str, mode: str) -> int:
    try:
        return int(replication_delay_ms(src, dst, mode))
    except (KeyError, ValueError) as error:  # a region the model doesn't know: replicate anyway
        log.warning(
            "no modelled delay for %s -> %s (%s); using %s ms", src, dst, error, FALLBACK_REALISTIC_DELAY_MS
        )
        return 0 if mode == "none" else FALLBACK_REALISTIC_DELAY_MS


class Delays:
    def __init__(self, network: str = "realistic", override_ms: int | None = None):
        self._lock = threading.Lock()
        self._network = network
        self._override: int | None = override_ms

    @property
    def network(self) -> str:
        with self._lock:
            return self._network

    @property
    def override_ms(self) -> int | None:
        with self._lock:
            return self._override

    def set_network(self, mode: str) -> None:
        with self._lock:
            self._network = mode

    def set_override(self, ms: int | None) -> None:
        with self._lock:
            self._override = ms

    def delay_ms(self, src: str, dst: str) -> int:
        if src == dst:
            return 0
        with self._lock:
            override, network = self._override, self._network
        if override is not None:
            return override
        return _delay_from_network_model(src, dst, network)

    def to_json(self) -> dict:
        with self._lock:
            return {"network": self._network, "delay_override": self._override}

    def load_json(self, state: dict) -> None:
        with self._lock:
            if "network" in state:
                self._network = state["network"]
            if "delay_override" in state:
                self._override = state["delay_override"]

"""The replicator process's replicators: one ``Replicator`` per global table, each over that table's replicas.

Why one ``Replicator`` per table rather than tables inside one: a ``Replicator`` already owns everything a table's
replication needs (its streams' positions, per-pair queues and checkpoints, owed backfills, its state file), and it
is proven by the fault runs; a second table is a second of them, with its own state file under ``state_dir``
(``tables/<name>/``; the cloud's own table keeps ``state_dir`` itself), sharing the region clients.

When a table's replicas change (``membership.py``), its ``Replicator`` is stopped (it saves its state) and a new one
starts over the new regions from that state: new pairs read their source from its oldest record still kept, and an
added region is owed a backfill, so nothing written before or meanwhile is missed.

``Fleet`` is also what the admin API drives: pause, resume, delay and network apply to every table (and to tables
made global later); status, latency and reset are the cloud's own table's (``config["table"]``), as before.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from backend.local.replication.membership import Membership
from backend.local.replication.replicator import Replicator
from backend.local.replication.wire import RegionClients

log = logging.getLogger("backend.local.replicator")


class Fleet:
    def __init__(self, config: dict, clock=time.time):
        self.config = config
        self.clock = clock
        self.table = config["table"]
        self.regions: dict[str, str] = dict(config["regions"])
        self.names = sorted(self.regions)
        self.clients = {name: RegionClients(name, url) for name, url in self.regions.items()}
        self.stopping = threading.Event()
        # one change of the fleet at a time (admin calls and the membership loop)
        self._lock = threading.RLock()
        self.replicators: dict[str, Replicator] = {}
        default = self._make(self.table, self.names)
        self.replicators[self.table] = default
        # What every replicator of the fleet follows; the cloud's own table's saved state says it after a restart.
        self.paused: set[str] = set(default.isolation.paused())
        self.network, self.delay_override_ms = default.delays.network, default.delays.override_ms
        self.membership = Membership(self)
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- replicators

    def _make(self, table: str, regions) -> Replicator:
        own = table == self.table
        state_dir = Path(self.config["state_dir"])
        config = {
            **self.config,
            "table": table,
            "regions": {name: self.regions[name] for name in regions},
            "state_dir": str(state_dir if own else state_dir / "tables" / table),
            # Stream trimming names the cloud's own table only (the region's trim route serves that table).
            "region_admin": self.config.get("region_admin") if own else {},
        }
        return Replicator(config, self.clock, clients=self.clients)

    def replicator(self, table: str) -> Replicator | None:
        with self._lock:
            return self.replicators.get(table)

    def ensure(self, table: str, regions) -> Replicator | None:
        """The replicator of ``table`` over exactly ``regions`` (started now if the set changed); None under 2."""
        wanted = sorted(name for name in regions if name in self.regions)
        with self._lock:
            current = self.replicators.get(table)
            if current is not None and current.names == wanted:
                return current
            if current is not None:
                current.stop()  # saves its state: the next one resumes from it
                del self.replicators[table]
            if len(wanted) < 2 or self.stopping.is_set():
                return None
            replicator = self._make(table, wanted)
            self._follow(replicator)
            replicator.start()
            self.replicators[table] = replicator
            log.warning("%s: replicating among %s", table, ", ".join(wanted))
            return replicator

    def _follow(self, replicator: Replicator) -> None:
        """A new replicator takes the fleet's pauses, network and delay."""
        replicator.isolation.load(sorted(self.paused & set(replicator.names)))
        replicator.delays.set_network(self.network)
        replicator.delays.set_override(self.delay_override_ms)

    def _all(self) -> list[Replicator]:
        with self._lock:
            return list(self.replicators.values())

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        for replicator in self._all():
            replicator.start()
        self._thread = threading.Thread(target=self.membership.run, name="membership", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
        for replicator in self._all():
            replicator.stop()

    # ---------------------------------------------------------------- the admin API's methods

    def _check_region(self, region) -> None:
        if region not in self.regions:
            raise ValueError(f"unknown region {region!r}; known: {', '.join(self.names)}")

    def pause(self, region: str) -> list[str]:
        self._check_region(region)
        with self._lock:
            self.paused.add(region)
            for replicator in self.replicators.values():
                if region in replicator.names:
                    replicator.pause(region)
            return sorted(self.paused)

    def resume(self, region: str) -> list[str]:
        self._check_region(region)
        with self._lock:
            self.paused.discard(region)
            for replicator in self.replicators.values():
                if region in replicator.names:
                    replicator.resume(region)
            return sorted(self.paused)

    def set_delay(self, ms: int | None) -> None:
        with self._lock:
            self.delay_override_ms = ms
            for replicator in self.replicators.values():
                replicator.set_delay(ms)

    def set_network(self, mode: str) -> None:
        with self._lock:
            self.network = mode
            for replicator in self.replicators.values():
                replicator.set_network(mode)

    def reset(self) -> None:
        """A reset recreates the cloud's own table in every region: only its replicator forgets what is pending."""
        own = self.replicator(self.table)
        if own is not None:
            own.reset()

    def latency(self) -> dict:
        own = self.replicator(self.table)
        if own is not None:
            return own.latency()
        return {"metric": "ReplicationLatency", "unit": "Milliseconds", "pairs": []}

    def status(self) -> dict:
        own = self.replicator(self.table)
        status = (
            own.status() if own is not None else {"regions": [], "paused": sorted(self.paused), "pairs": []}
        )
        status["tables"] = {
            table: {"regions": replicator.names, "backfill_pending": replicator.backfill.pending()}
            for table, replicator in sorted(self.replicators.items())
        }
        status["membership_errors"] = self.membership.errors.to_json()
        return status

"""The local global-tables replicator: reads every region's DynamoDB stream and applies the changes elsewhere.

    python -m backend.local.replication --config FILE      (config: see ``config.py``)

When ready it prints one line ``{"ready": true, "admin": "http://127.0.0.1:P"}``; SIGTERM stops it cleanly.

How it moves records (the decisions themselves are in ``decisions.py``, which is pure). ``Replicator`` composes
the parts, each with its own state, and runs their threads:

- one reader thread per source region polls its stream through the region's door, which shows each record's hidden
  version (``reader.py``), and turns each local write into entries of per-pair FIFO queues (``pairs.py``), due at
  the record's creation time + the pair's delay (``delays.py``);
- a few applier threads per destination (``applier.py``) hand due entries to the destination's door, which takes a
  change only if it is newer than what it holds (so applying twice is harmless; never two entries of one key at
  once, and per pair in order); a paused destination (``isolation.py``) applies nothing and its queues grow; on
  resume it catches up in order;
- a region whose table was recreated (its process restarted: moto keeps nothing) is backfilled from the others
  (``backfill.py``);
- checkpoints are per pair: "every record up to sequence S of the source is done for this destination". They are
  saved atomically (tmp + rename) with pauses and owed backfills a few times a second
  (``checkpoints.py``). After a kill -9 the reader resumes from the smallest checkpoint of the source and skips,
  per pair, what that pair had done.
"""

from __future__ import annotations

import logging
import threading
import time

from backend.local.replication import housekeeping
from backend.local.replication.applier import APPLY_BATCH, Applier, ApplierParts
from backend.local.replication.backfill import Backfill, BackfillParts
from backend.local.replication.checkpoints import StateFile
from backend.local.replication.config import (
    DEFAULT_APPLIERS,
    DEFAULT_IDLE_POLL_INTERVAL_MS,
    DEFAULT_POLL_INTERVAL_MS,
)
from backend.local.replication.delays import Delays
from backend.local.replication.isolation import Isolation
from backend.local.replication.metrics import Errors, Metrics
from backend.local.replication.pairs import Pairs
from backend.local.replication.reader import ReaderParts, StreamReader
from backend.local.replication.wire import RegionClients

log = logging.getLogger("backend.local.replicator")


class Replicator:
    def __init__(self, config: dict, clock=time.time, clients: dict[str, RegionClients] | None = None):
        self.config = config
        self.table = config["table"]
        self.regions: dict[str, str] = dict(config["regions"])
        self.names = sorted(self.regions)
        self.clock = clock
        self.stopping = threading.Event()
        self.dirty = threading.Event()  # something the state file should get changed since the last save
        self.threads: list[threading.Thread] = []
        self.appliers = max(1, int(config.get("appliers", DEFAULT_APPLIERS)))
        # A fleet of replicators (one per global table, ``fleet.py``) shares one set of clients.
        shared = clients or {}
        self.clients = {
            name: shared.get(name) or RegionClients(name, self.regions[name]) for name in self.names
        }
        self.state_file = StateFile(config["state_dir"])
        self.delays = Delays(
            config.get("network", "realistic"),
            None if config.get("delay", "auto") == "auto" else int(config["delay"]),
        )
        self.pairs = Pairs(self.names, self.dirty)
        self.isolation = Isolation(self.names, on_resume=self.pairs.wake)
        self.metrics = Metrics(self.names)
        self.errors = Errors()
        self.backfill = Backfill(
            self.names,
            BackfillParts(
                self.table, self.clients, self.isolation, self.errors, self.stopping, self.dirty, clock,
            ),
        )  # fmt: skip
        reader_parts = ReaderParts(
            self.table, self.clients, self.pairs, self.delays, self.backfill, self.errors, self.stopping,
            config.get("poll_interval_ms", DEFAULT_POLL_INTERVAL_MS) / 1000,
            config.get("idle_poll_interval_ms", DEFAULT_IDLE_POLL_INTERVAL_MS) / 1000,
        )  # fmt: skip
        self.readers = {name: StreamReader(name, reader_parts) for name in self.names}
        self.applier_parts = ApplierParts(
            self.table, self.clients, self.pairs, self.isolation, self.metrics, self.errors, self.stopping, clock,
            int(config.get("apply_batch", APPLY_BATCH)),
        )  # fmt: skip
        self._load_state()

    # ---------------------------------------------------------------- state file

    def _load_state(self) -> None:
        state = self.state_file.load()
        if state is None:
            return
        self.isolation.load(state.get("paused", []))
        self.backfill.load(state.get("backfill_pending", []))
        self.delays.load_json(state)
        self.pairs.load(state)

    def _take_state(self) -> dict:
        self.dirty.clear()  # a change from now on sets it again: the next save gets it
        with self.pairs.cond:
            # Under the queues' lock, as the reader records owed backfills: every recreated table the checkpoints
            # count as read is in the same file.
            sources = self.pairs.sources_json_locked()
            backfill_pending = self.backfill.pending()
        return {
            "version": 1,
            "sources": sources,
            "paused": self.isolation.paused(),
            "backfill_pending": backfill_pending,
            **self.delays.to_json(),
        }

    def save_state(self) -> None:
        self.state_file.save(self._take_state)

    def _save_quietly(self) -> None:
        try:
            self.save_state()
        except OSError as error:
            log.error("cannot save the state file %s: %s", self.state_file.path, error)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        for name in self.names:
            jobs = [(self.readers[name].run, f"read-{name}")]
            for n in range(self.appliers):
                # The first applier of a destination starts its backfill when one is owed.
                each_round = (lambda dst=name: self.backfill.start_if_owed(dst)) if n == 0 else (lambda: None)
                jobs.append((Applier(name, self.applier_parts, each_round).run, f"apply-{name}-{n}"))
            for target, thread_name in jobs:
                thread = threading.Thread(target=target, name=thread_name, daemon=True)
                thread.start()
                self.threads.append(thread)
        keeper = threading.Thread(target=self._housekeeper, name="housekeeper", daemon=True)
        keeper.start()
        self.threads.append(keeper)

    def stop(self) -> None:
        self.stopping.set()
        self.pairs.wake()
        deadline = time.monotonic() + 3  # threads stuck in an HTTP call to a stopped region are daemons
        for thread in self.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._save_quietly()

    def _housekeeper(self) -> None:
        housekeeping.run(
            self.stopping, self.clock, self.dirty, self._save_quietly, self.trim_streams
        )

    def trim_streams(self) -> None:
        """Tells each region process to drop stream records every pair has durably done (bounds moto's memory)."""
        housekeeping.trim_streams(self.config.get("region_admin") or {}, self.state_file.saved_checkpoints())

    # ---------------------------------------------------------------- control (the admin API's methods)

    def pause(self, region: str) -> list[str]:
        """Isolates ``region``: nothing is applied in it until ``resume``. Returns the paused regions."""
        self.isolation.pause(region)
        self.dirty.set()
        self.save_state()
        return self.isolation.paused()

    def resume(self, region: str) -> list[str]:
        self.isolation.resume(region)
        self.dirty.set()
        self.save_state()
        return self.isolation.paused()

    def set_delay(self, ms: int | None) -> None:
        self.delays.set_override(ms)
        self.dirty.set()

    def set_network(self, mode: str) -> None:
        self.delays.set_network(mode)
        self.dirty.set()

    def reset(self) -> None:
        """Forgets everything pending (the data was reset): queues, latency; skips older records."""
        now = self.now_ms()
        self.backfill.reset()
        with self.pairs.cond:  # one step for the readers: no record is taken half before, half after
            self.pairs.reset(now)
        for reader in self.readers.values():
            reader.request_reseek()
        self.metrics.reset()
        self.dirty.set()
        self.save_state()

    # ---------------------------------------------------------------- reports

    def delay_ms(self, src: str, dst: str) -> int:
        return self.delays.delay_ms(src, dst)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def latency(self) -> dict:
        pairs = self.metrics.summaries(self.pairs.backlog, recent=200)
        return {
            "metric": "ReplicationLatency",
            "unit": "Milliseconds",
            "metrics": {"ReplicationLatency": "Milliseconds", "PendingReplicationCount": "Count"},
            "pairs": pairs,
        }

    def status(self) -> dict:
        pairs = self.metrics.summaries(self.pairs.backlog)
        with self.pairs.cond:
            for pair in pairs:
                src, dst = pair["source"], pair["destination"]
                pair["delay_ms"] = self.delays.delay_ms(src, dst)
                pair["checkpoint"] = _text(self.pairs.done_upto_locked(src, dst))
        return {
            "regions": self.names,
            "paused": self.isolation.paused(),
            "backfill_pending": self.backfill.pending(),
            "network": self.delays.network,
            "delay_override_ms": self.delays.override_ms,
            "errors": self.errors.to_json(),
            "stream_reseeks": {name: reader.reseeks for name, reader in self.readers.items()},
            "pairs": pairs,
        }


def _text(seq: int | None) -> str | None:
    return None if seq is None else str(seq)

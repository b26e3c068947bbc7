"""The local global-tables replicator: reads every region's DynamoDB stream and applies the changes elsewhere.

    python -m backend.local.replication --config FILE

Config (JSON): {"table": "keyvalues", "regions": {"us-west-2": "http://127.0.0.1:P", ...}, "state_dir": "...",
"admin_host": "127.0.0.1", "admin_port": 0, "network": "realistic"|"none", "delay": "auto"|<ms>,
"region_admin": {"us-west-2": "http://127.0.0.1:P", ...} (optional), and optional tuning: "poll_interval_ms": 15,
"idle_poll_interval_ms": 50,
"appliers": 4 (per destination), "tombstone_ttl_s": 3600}.
When ready it prints one line ``{"ready": true, "admin": "http://127.0.0.1:P"}``; SIGTERM stops it cleanly.

How it moves records (the decisions themselves are in ``decisions.py``, which is pure):

- one reader thread per source region polls its stream (moto has one shard per table) and turns each record into
  entries of per-pair FIFO queues (source → destination, and source → itself for repairs), due at the record's
  creation time + the pair's delay;
- a few applier threads per destination apply due entries with conditional writes, so applying twice is harmless
  (never two entries of one key at once, and per pair in order); a paused destination applies nothing and its
  queues grow; on resume it catches up in order. A change the destination refuses because it holds a newer item
  sends that item back to the source (anti-entropy push-back);
- a region whose table was recreated (its process restarted: moto keeps nothing) is backfilled from the others;
- checkpoints are per pair: "every record up to sequence S of the source is done for this destination". They are
  saved atomically (tmp + rename) with tombstones, pauses and pending repairs a few times a second. After a kill -9
  the reader resumes from the smallest checkpoint of the source and skips, per pair, what that pair had done.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from backend.local.json_api import BadBody, read_json_object, send_json
from backend.local.loopback import is_loopback
from backend.local.memory import return_free_heap_to_the_os
from backend.local.replication import decisions as replication
from backend.local.replication.decisions import Action, Change, Tombstones
from backend.local.replication.marked_deletes import MarkedDeletes, new_mark
from backend.local.replication.wire import DYNAMODB, STREAMS, WireClient

log = logging.getLogger("backend.local.replicator")

STATE_FILE = "replicator-state.json"
DEFAULT_POLL_INTERVAL_MS = 15  # empty polls of a stream that had records in the last IDLE_AFTER_S
DEFAULT_IDLE_POLL_INTERVAL_MS = (
    50  # a quiet stream: each empty poll costs moto ~2-4 ms of CPU and an iterator
)
IDLE_AFTER_S = 2.0
SAVE_INTERVAL_S = 0.2
DEFAULT_APPLIERS = 4  # concurrent appliers per destination (moto answers each request in a few ms)
TRIM_INTERVAL_S = 5.0
TOMBSTONE_TTL_S = 3600.0
STREAM_CHECK_INTERVAL_S = 1.0  # how often a reader checks that its table was not recreated
RESET_GRACE_S = (
    30.0  # new streams this soon after POST /reset come from the reset itself: nothing to backfill
)
LATENCY_SAMPLES = 2000
FALLBACK_REALISTIC_DELAY_MS = 100  # only if the network model is missing


@functools.lru_cache(maxsize=4096)  # deterministic per pair and mode; asked once per record and destination
def _delay_from_network_model(src: str, dst: str, mode: str) -> int:
    try:
        from backend.local.network import replication_delay_ms
    except ImportError:  # the network model is another module of the local cloud; stay usable without it
        return 0 if mode == "none" else FALLBACK_REALISTIC_DELAY_MS
    try:
        return int(replication_delay_ms(src, dst, mode))
    except (KeyError, ValueError) as error:  # a region the model doesn't know: replicate anyway
        log.warning(
            "no modelled delay for %s -> %s (%s); using %s ms", src, dst, error, FALLBACK_REALISTIC_DELAY_MS
        )
        return 0 if mode == "none" else FALLBACK_REALISTIC_DELAY_MS


class ConfigError(ValueError):
    pass


def load_config(path: str | Path) -> dict:
    try:
        config = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read config {path}: {error}") from None
    if not isinstance(config, dict):
        raise ConfigError("the config must be a JSON object")
    regions = config.get("regions")
    if not isinstance(regions, dict) or len(regions) < 2:
        raise ConfigError('"regions" must map at least 2 region names to DynamoDB endpoint URLs')
    for name, url in regions.items():
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f'"regions": the endpoint of {name} must be an http(s) URL, not {url!r}')
    if config.get("network", "realistic") not in ("realistic", "none"):
        raise ConfigError('"network" must be "realistic" or "none"')
    delay = config.get("delay", "auto")
    if delay != "auto" and not (isinstance(delay, int) and not isinstance(delay, bool) and delay >= 0):
        raise ConfigError('"delay" must be "auto" or a number of milliseconds >= 0')
    if not config.get("state_dir"):
        raise ConfigError('"state_dir" is required')
    if not is_loopback(config.get("admin_host", "127.0.0.1")):
        raise ConfigError('"admin_host" must be a loopback address (127.0.0.1, ::1 or localhost)')
    config.setdefault("table", "keyvalues")
    config.setdefault("admin_host", "127.0.0.1")
    config.setdefault("admin_port", 0)
    config.setdefault("network", "realistic")
    config.setdefault("delay", "auto")
    config.setdefault("region_admin", {})
    config.setdefault("poll_interval_ms", DEFAULT_POLL_INTERVAL_MS)
    return config


@dataclass
class Entry:
    due_ms: int
    seq: int | None  # the source record's sequence number; None for a push-back repair (not in any stream)
    prev_seq: int | None  # the source's sequence read just before this record: "done up to" while this waits
    change: Change
    source: str
    state: int = (
        0  # WAITING, APPLYING or DONE; done entries leave the queue once everything before them is done
    )


WAITING, APPLYING, DONE = 0, 1, 2
SCAN_WINDOW = 64  # how far into a pair's queue appliers look for a key nobody is applying


class PairStats:
    """ReplicationLatency of one source → destination pair, as the CloudWatch metric (ms)."""

    def __init__(self):
        self.samples: deque[tuple[float, int]] = deque(maxlen=LATENCY_SAMPLES)  # (applied at, ms)
        self.applied = 0
        self.last_apply: float | None = None

    def add(self, at: float, latency_ms: int) -> None:
        self.samples.append((at, latency_ms))
        self.applied += 1
        self.last_apply = at

    def summary(self) -> dict:
        values = sorted(ms for _, ms in self.samples)
        return {
            "count": self.applied,
            "p50_ms": _quantile(values, 0.50),
            "p99_ms": _quantile(values, 0.99),
            "max_ms": values[-1] if values else None,
            "last_apply": self.last_apply,
        }


def _quantile(values: list[int], q: float) -> int | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


class RegionClients:
    """The DynamoDB and Streams clients of one region's endpoint, shared by the threads (each thread keeps its own
    keep-alive connection). They speak the wire protocol directly: see ``wire.py`` for why not boto3."""

    def __init__(self, region: str, endpoint: str):
        access_key = os.environ.get("AWS_ACCESS_KEY_ID", "local")
        self.dynamodb = WireClient(endpoint, region, DYNAMODB, access_key=access_key)
        self.streams = WireClient(endpoint, region, STREAMS, access_key=access_key)


class Replicator:
    def __init__(self, config: dict, clock=time.time):
        self.config = config
        self.table = config["table"]
        self.regions: dict[str, str] = dict(config["regions"])
        self.names = sorted(self.regions)
        self.state_dir = Path(config["state_dir"])
        self.poll_interval_s = config.get("poll_interval_ms", DEFAULT_POLL_INTERVAL_MS) / 1000
        self.idle_poll_interval_s = config.get("idle_poll_interval_ms", DEFAULT_IDLE_POLL_INTERVAL_MS) / 1000
        self.clock = clock
        self.cond = threading.Condition()
        self._save_lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.admin: AdminServer | None = None
        # -- the state below is guarded by self.cond --
        self.network = config.get("network", "realistic")
        self.delay_override: int | None = (
            None if config.get("delay", "auto") == "auto" else int(config["delay"])
        )
        self.paused: set[str] = set()
        self.tombstones = Tombstones()
        self.marked_deletes = MarkedDeletes()  # has its own lock
        self.streams: dict[str, str | None] = {name: None for name in self.names}
        self.floor: dict[tuple[str, str], int | None] = {}  # per-pair checkpoint loaded from the state file
        self.read_upto: dict[str, int | None] = {name: None for name in self.names}
        self.events_at_read_upto: dict[str, set] = {name: set() for name in self.names}
        self.discard_before_ms: dict[str, int | None] = {name: None for name in self.names}
        self.queues: dict[tuple[str, str], deque[Entry]] = {
            (src, dst): deque() for src in self.names for dst in self.names
        }
        self.pushbacks: dict[str, deque[Entry]] = {name: deque() for name in self.names}
        self.stats: dict[tuple[str, str], PairStats] = {
            (src, dst): PairStats() for src in self.names for dst in self.names if src != dst
        }
        self.reseek: dict[str, bool] = {name: False for name in self.names}
        self.dirty = False
        self.saved_checkpoints: dict[str, tuple[str | None, int | None]] = {}  # src -> (stream ARN, seq)
        self.errors: dict[str, str] = {}
        # regions whose table was recreated (their process restarted): copy the other regions into them
        self.backfill_pending: set[str] = set()
        self.backfilling: set[str] = set()
        self.last_reset: float | None = None
        self.applying_keys: dict[str, set[str]] = {name: set() for name in self.names}
        self.reseeks: dict[str, int] = {name: 0 for name in self.names}  # stream read errors survived
        self.appliers = max(1, int(config.get("appliers", DEFAULT_APPLIERS)))
        self.tombstone_ttl_s = float(config.get("tombstone_ttl_s", TOMBSTONE_TTL_S))
        self._load_state()

    # ---------------------------------------------------------------- state file

    @property
    def state_path(self) -> Path:
        return self.state_dir / STATE_FILE

    def _load_state(self) -> None:
        try:
            state = json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as error:
            log.warning("ignoring an unreadable state file %s: %s", self.state_path, error)
            return
        self.tombstones = Tombstones.from_json(state.get("tombstones"))
        self.paused = {name for name in state.get("paused", []) if name in self.regions}
        self.backfill_pending = {name for name in state.get("backfill_pending", []) if name in self.regions}
        if "network" in state:
            self.network = state["network"]
        if "delay_override" in state:
            self.delay_override = state["delay_override"]
        for src, saved in state.get("sources", {}).items():
            if src not in self.regions:
                continue
            self.streams[src] = saved.get("stream")
            self.discard_before_ms[src] = saved.get("discard_before_ms")
            for dst, seq in saved.get("checkpoints", {}).items():
                if dst in self.regions:
                    self.floor[(src, dst)] = None if seq is None else int(seq)
        for dst, changes in state.get("pushbacks", {}).items():
            for data in changes if dst in self.regions else []:
                change = Change.from_json(data["change"])
                self.pushbacks[dst].append(Entry(0, None, None, change, data["source"]))

    def _state_locked(self) -> dict:
        sources = {}
        for src in self.names:
            checkpoints = {dst: self._done_upto(src, dst) for dst in self.names}
            sources[src] = {
                "stream": self.streams[src],
                "checkpoints": {dst: None if seq is None else str(seq) for dst, seq in checkpoints.items()},
                "discard_before_ms": self.discard_before_ms[src],
            }
        return {
            "version": 1,
            "sources": sources,
            "tombstones": self.tombstones.to_json(),
            "paused": sorted(self.paused),
            "backfill_pending": sorted(self.backfill_pending),
            "network": self.network,
            "delay_override": self.delay_override,
            "pushbacks": {
                dst: [{"source": e.source, "change": e.change.to_json()} for e in entries]
                for dst, entries in self.pushbacks.items()
                if entries
            },
        }

    def save_state(self) -> None:
        with self._save_lock:  # the housekeeper and the admin API both save: one at a time, one tmp file
            self._save_state()

    def _save_state(self) -> None:
        with self.cond:
            state = self._state_locked()
            self.dirty = False
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "w") as handle:
            json.dump(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.state_path)  # atomic: a kill -9 leaves the old file or the new one, never half
        with self.cond:
            self.saved_checkpoints = {
                src: (state["sources"][src]["stream"], self._resume_seq(state["sources"][src]))
                for src in self.names
            }

    @staticmethod
    def _resume_seq(saved: dict) -> int | None:
        seqs = list(saved["checkpoints"].values())
        if any(seq is None for seq in seqs):
            return None
        return min(int(seq) for seq in seqs)

    # ---------------------------------------------------------------- checkpoints

    def _done_upto(self, src: str, dst: str) -> int | None:
        """Largest sequence S of src such that every record <= S is done for dst (None: nothing known done)."""
        queue = self.queues[(src, dst)]
        computed = queue[0].prev_seq if queue else self.read_upto[src]
        floor = self.floor.get((src, dst))
        if computed is None:
            return floor
        return computed if floor is None else max(computed, floor)

    def _resume_point(self, src: str) -> int | None:
        seqs = [self._done_upto(src, dst) for dst in self.names]
        return None if any(seq is None for seq in seqs) else min(seqs)

    # ---------------------------------------------------------------- delays

    def delay_ms(self, src: str, dst: str) -> int:
        if src == dst:
            return 0
        if self.delay_override is not None:
            return self.delay_override
        return _delay_from_network_model(src, dst, self.network)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # ---------------------------------------------------------------- reading streams

    def _reader(self, src: str) -> None:
        clients = self.clients[src]
        iterator = None
        backoff = 0.05
        last_check = time.monotonic()
        last_record = 0.0
        while not self.stopping.is_set():
            with self.cond:
                if self.reseek[src]:
                    self.reseek[src] = False
                    iterator = None
            try:
                if iterator is not None and time.monotonic() - last_check > STREAM_CHECK_INTERVAL_S:
                    # A recreated table keeps answering the old iterator (empty, no error): compare the ARN.
                    last_check = time.monotonic()
                    table = clients.dynamodb.describe_table(TableName=self.table)["Table"]
                    if table.get("LatestStreamArn") != self.streams[src]:
                        iterator = None
                if iterator is None:
                    iterator = self._seek(src, clients)
                    last_check = time.monotonic()
                answer = clients.streams.get_records(ShardIterator=iterator, Limit=1000)
            except Exception as error:
                # endpoint down, table reset, moto's HTML 500 on a bad iterator: re-seek from the checkpoint
                self._note_error(src, f"reading the stream: {type(error).__name__}: {error}")
                self.reseeks[src] += 1
                iterator = None
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.05
            self.errors.pop(src, None)
            records = answer.get("Records", [])
            iterator = answer.get("NextShardIterator")
            if records:
                last_record = time.monotonic()
                # Outside self.cond: this may wait for an applier's delete in flight, and appliers need the lock.
                local = [self._is_local_remove_of_marked_item(src, record) for record in records]
                with self.cond:
                    for record, marked_remove_is_local in zip(records, local, strict=True):
                        self._take_record(src, record, marked_remove_is_local)
                    self.dirty = True
                    self.cond.notify_all()
            elif time.monotonic() - last_record < IDLE_AFTER_S:
                self.stopping.wait(self.poll_interval_s)
            else:
                self.stopping.wait(self.idle_poll_interval_s)

    def _seek(self, src: str, clients: RegionClients) -> str:
        table = clients.dynamodb.describe_table(TableName=self.table)["Table"]
        arn = table.get("LatestStreamArn")
        if not arn:
            raise RuntimeError(f"the table {self.table} in {src} has no stream")
        with self.cond:
            if self.streams[src] is not None and self.streams[src] != arn:
                self._forget_stream_locked(src)
                just_reset = self.last_reset is not None and self.clock() - self.last_reset < RESET_GRACE_S
                if not just_reset:
                    self.backfill_pending.add(src)
                    self.dirty = True
            self.streams[src] = arn
            resume = self._resume_point(src)
        shard = clients.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        if resume is None:
            kwargs = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": str(resume)}
        try:
            answer = clients.streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], **kwargs)
        except Exception:
            # The checkpoint is not in the stream any more (trimmed past it): start from the oldest record left.
            if resume is None:
                raise
            log.warning(
                "%s: checkpoint %s no longer in the stream; reading from its oldest record", src, resume
            )
            answer = clients.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )
        with self.cond:
            self.read_upto[src] = resume if self.read_upto[src] is None else self.read_upto[src]
        return answer["ShardIterator"]

    def _forget_stream_locked(self, src: str) -> None:
        """The table was recreated (a new stream): positions in the old one mean nothing now."""
        log.warning("%s: the table has a new stream; reading it from the start", src)
        for dst in self.names:
            self.floor.pop((src, dst), None)
            for entry in self.queues[(src, dst)]:
                entry.seq = entry.prev_seq = None
        self.read_upto[src] = None

    def _is_local_remove_of_marked_item(self, src: str, record: dict) -> bool:
        mark = replication.replica_mark(record)
        return mark is not None and self.marked_deletes.removed_by_someone_else(src, mark)

    def _take_record(self, src: str, record: dict, marked_remove_is_local: bool = False) -> None:
        seq = int(record["dynamodb"]["SequenceNumber"])
        previous = self.read_upto[src]
        # Already read (a re-seek overlaps)? moto without the janitor's lock can give two concurrent writes the
        # same sequence number, so a record at the last sequence read is skipped only if it is the same event.
        if previous is not None and seq < previous:
            return
        event = record.get("eventID")
        if previous is not None and seq == previous and event in self.events_at_read_upto[src]:
            return
        if seq != previous:
            self.events_at_read_upto[src] = set()
        self.events_at_read_upto[src].add(event)
        self.read_upto[src] = seq
        discard_before = self.discard_before_ms[src]
        if discard_before is not None and replication.creation_ms(record) < discard_before:
            return  # written before a reset
        key = record["dynamodb"].get("Keys", {}).get("key", {}).get("S")
        tombstone = self.tombstones.get(key) if key else None
        decision = replication.decide(record, src, tombstone, marked_remove_is_local)
        if decision.action is Action.SKIP:
            return
        change = decision.change
        if change.is_delete:
            self.tombstones.record(change.key, change.version)
        for dst in replication.destinations(decision, src, self.names):
            floor = self.floor.get((src, dst))
            if floor is not None and seq <= floor:
                continue  # this pair had done it before a restart
            due = change.created_ms + self.delay_ms(src, dst)
            self.queues[(src, dst)].append(Entry(due, seq, previous, change, src))

    # ---------------------------------------------------------------- applying

    def _next_entry_locked(self, dst: str) -> tuple[deque | None, Entry | None]:
        """The earliest-due waiting entry whose key no applier of ``dst`` is busy with and that has no earlier
        unfinished entry of the same key in its queue: per-key order holds with several appliers."""
        best_queue, best = None, None
        busy = self.applying_keys[dst]
        candidates = [self.queues[(src, dst)] for src in self.names] + [self.pushbacks[dst]]
        for queue in candidates:
            held: set[str] = set()
            for position, entry in enumerate(queue):
                if position >= SCAN_WINDOW:
                    break
                key = entry.change.key
                if entry.state == WAITING and key not in held and key not in busy:
                    if best is None or entry.due_ms < best.due_ms:
                        best_queue, best = queue, entry
                    break  # later entries of a queue are due later
                if entry.state != DONE:
                    held.add(key)
        return best_queue, best

    def _backlog_locked(self, src: str, dst: str) -> int:
        """Records read from src and not yet applied in dst."""
        return sum(entry.state != DONE for entry in self.queues[(src, dst)])

    @staticmethod
    def _drop_done_locked(queue: deque) -> None:
        while queue and queue[0].state == DONE:
            queue.popleft()

    def _worker(self, dst: str, number: int = 0) -> None:
        clients = self.clients[dst]
        self._warm_up(clients, dst)
        backoff = 0.05
        while not self.stopping.is_set():
            if number == 0 and dst in self.backfill_pending and dst not in self.backfilling:
                self._start_backfill(dst)
            with self.cond:
                if dst in self.paused:
                    self.cond.wait(0.1)
                    continue
                queue, entry = self._next_entry_locked(dst)
                if entry is None:
                    self.cond.wait(0.1)
                    continue
                wait_ms = entry.due_ms - self.now_ms()
                if wait_ms > 0:
                    self.cond.wait(min(wait_ms / 1000, 0.1))
                    continue
                tombstone = self.tombstones.get(entry.change.key)
                entry.state = APPLYING
                self.applying_keys[dst].add(entry.change.key)
            try:
                winner = apply_change(
                    clients.dynamodb, self.table, entry.change, tombstone, self.marked_deletes, dst
                )
            except Exception as error:  # region down or restarting: keep the entry, retry
                with self.cond:
                    entry.state = WAITING
                    self.applying_keys[dst].discard(entry.change.key)
                self._note_error(dst, f"applying: {type(error).__name__}: {error}")
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.05
            self.errors.pop(dst, None)
            now = self.clock()
            with self.cond:
                entry.state = DONE
                self.applying_keys[dst].discard(entry.change.key)
                self._drop_done_locked(queue)
                if entry.seq is not None and entry.source != dst:
                    self.stats[(entry.source, dst)].add(
                        now, max(0, int(now * 1000) - entry.change.created_ms)
                    )
                if winner is not None and entry.source != dst:
                    self._push_back_locked(entry.source, winner, dst)
                self.dirty = True
                self.cond.notify_all()

    def _warm_up(self, clients: RegionClients, region: str) -> None:
        """One cheap call first: opens this thread's connection, so the first replicated write does not pay for it."""
        try:
            clients.dynamodb.describe_table(TableName=self.table)
        except Exception as error:  # the region may not be up yet: the apply loop retries anyway
            log.info("%s: warm-up call failed: %s", region, error)

    def _start_backfill(self, dst: str) -> None:
        with self.cond:
            self.backfilling.add(dst)
        threading.Thread(target=self._backfill, args=(dst,), name=f"backfill-{dst}", daemon=True).start()

    def _backfill(self, dst: str) -> None:
        """The table of ``dst`` was recreated (its region process restarted and moto keeps nothing): copy every
        other region's items into it with the same conditional puts, as adding a replica to a global table does."""
        log.warning("%s: its table was recreated; copying the other regions' items into it", dst)
        target = self.clients[dst]
        try:
            # The table this copy is for: if the region restarts again meanwhile (its backfill waits while it is
            # fenced and paused), the copy went partly into a table that is gone, so it is not done.
            incarnation = target.dynamodb.describe_table(TableName=self.table)["Table"].get("LatestStreamArn")
            # What the target already holds is not sent again: a backfill interrupted (the replicator killed, a
            # source restarting) starts over, and copying everything each time never finished under load.
            held = {
                item["key"]["S"]: replication.item_version(item)
                for item in _scan(target.dynamodb, self.table)
                if replication.REPLICA_DELETE_MARK not in item
            }
            for src in self.names:
                if src == dst:
                    continue
                source = self.clients[src]
                for item in _scan(source.dynamodb, self.table):
                    while dst in self.paused and not self.stopping.is_set():
                        self.stopping.wait(0.1)
                    if self.stopping.is_set():
                        return
                    version = replication.item_version(item)
                    if replication.REPLICA_DELETE_MARK in item or version is None:
                        continue
                    key = item["key"]["S"]
                    if held.get(key) is not None and not held[key] < version:
                        continue
                    change = Change(key, version, item, self.now_ms())
                    apply_change(
                        target.dynamodb, self.table, change, self.tombstones.get(key), self.marked_deletes, dst
                    )
                    held[key] = version
            now = target.dynamodb.describe_table(TableName=self.table)["Table"].get("LatestStreamArn")
            if now != incarnation:
                raise RuntimeError("the table was recreated during the copy; copying again")
            with self.cond:
                self.backfill_pending.discard(dst)
                self.dirty = True
            log.warning("%s: backfill done", dst)
        except Exception as error:  # a region went away mid-copy: the worker starts the backfill again
            self._note_error(dst, f"backfill: {type(error).__name__}: {error}")
            self.stopping.wait(1.0)
        finally:
            with self.cond:
                self.backfilling.discard(dst)

    def _push_back_locked(self, src: str, winner: Change, dst: str) -> None:
        """The destination holds a newer winner than the source's change: make sure the source gets it too."""
        pending = self.pushbacks[src]
        if any(e.change.key == winner.key and e.change.version >= winner.version for e in pending):
            return
        pending.append(Entry(self.now_ms() + self.delay_ms(dst, src), None, None, winner, dst))

    # ---------------------------------------------------------------- housekeeping

    def _note_error(self, region: str, message: str) -> None:
        if self.errors.get(region) != message:
            log.warning("%s: %s", region, message)
        self.errors[region] = message

    def _housekeeper(self) -> None:
        last_trim = last_prune = self.clock()
        next_save = 0.0
        while not self.stopping.wait(SAVE_INTERVAL_S):
            if self.dirty and time.monotonic() >= next_save:
                started = time.monotonic()
                self._save_quietly()
                # A big state (many tombstones) is saved less often: at most ~5% of the time goes to saving.
                next_save = started + 20 * (time.monotonic() - started)
            now = self.clock()
            if now - last_prune > 60:
                last_prune = now
                with self.cond:
                    if self.tombstones.prune(int((now - self.tombstone_ttl_s) * 1000)):
                        self.dirty = True
            if now - last_trim > TRIM_INTERVAL_S:
                last_trim = now
                self.trim_streams()
                return_free_heap_to_the_os()

    def _save_quietly(self) -> None:
        try:
            self.save_state()
        except OSError as error:
            log.error("cannot save the state file %s: %s", self.state_path, error)

    def trim_streams(self) -> None:
        """Tells each region process to drop stream records every pair has durably done (bounds moto's memory)."""
        with self.cond:
            saved = dict(self.saved_checkpoints)
        for src, url in (self.config.get("region_admin") or {}).items():
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

    # ---------------------------------------------------------------- control

    def start(self) -> None:
        self.clients = {
            name: RegionClients(name, self.regions[name])
            for name in self.names
        }
        for name in self.names:
            jobs = [(self._reader, (name,), f"read-{name}")]
            jobs += [(self._worker, (name, n), f"apply-{name}-{n}") for n in range(self.appliers)]
            for target, args, thread_name in jobs:
                thread = threading.Thread(target=target, args=args, name=thread_name, daemon=True)
                thread.start()
                self.threads.append(thread)
        keeper = threading.Thread(target=self._housekeeper, name="housekeeper", daemon=True)
        keeper.start()
        self.threads.append(keeper)

    def stop(self) -> None:
        self.stopping.set()
        with self.cond:
            self.cond.notify_all()
        deadline = time.monotonic() + 3  # threads stuck in an HTTP call to a stopped region are daemons
        for thread in self.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._save_quietly()

    def pause(self, region: str) -> None:
        self._check_region(region)
        with self.cond:
            self.paused.add(region)
            self.dirty = True
        self.save_state()

    def resume(self, region: str) -> None:
        self._check_region(region)
        with self.cond:
            self.paused.discard(region)
            self.dirty = True
            self.cond.notify_all()
        self.save_state()

    def set_delay(self, ms: int | None) -> None:
        with self.cond:
            self.delay_override = ms
            self.dirty = True

    def set_network(self, mode: str) -> None:
        with self.cond:
            self.network = mode
            self.dirty = True

    def reset(self) -> None:
        """Forgets everything pending (the data was reset): queues, tombstones, latency; skips older records."""
        now = self.now_ms()
        with self.cond:
            self.last_reset = self.clock()
            self.backfill_pending.clear()
            for queue in list(self.queues.values()) + list(self.pushbacks.values()):
                queue.clear()
            self.tombstones.clear()
            for name in self.names:
                self.discard_before_ms[name] = now
                self.reseek[name] = True
            for key in self.stats:
                self.stats[key] = PairStats()
            self.dirty = True
            self.cond.notify_all()
        self.save_state()

    def _check_region(self, region) -> None:
        if region not in self.regions:
            raise ValueError(f"unknown region {region!r}; known: {', '.join(self.names)}")

    def latency(self) -> dict:
        with self.cond:
            pairs = []
            for (src, dst), stats in sorted(self.stats.items()):
                summary = stats.summary()
                summary.update(source=src, destination=dst, backlog=self._backlog_locked(src, dst))
                summary["recent"] = [{"at": at, "ms": ms} for at, ms in list(stats.samples)[-200:]]
                pairs.append(summary)
        return {"metric": "ReplicationLatency", "unit": "Milliseconds", "pairs": pairs}

    def status(self) -> dict:
        with self.cond:
            pairs = []
            for (src, dst), stats in sorted(self.stats.items()):
                summary = stats.summary()
                summary.update(
                    source=src,
                    destination=dst,
                    backlog=self._backlog_locked(src, dst),
                    delay_ms=self.delay_ms(src, dst),
                    checkpoint=_text(self._done_upto(src, dst)),
                )
                pairs.append(summary)
            return {
                "regions": self.names,
                "paused": sorted(self.paused),
                "backfill_pending": sorted(self.backfill_pending),
                "network": self.network,
                "delay_override_ms": self.delay_override,
                "tombstones": len(self.tombstones),
                "repairs_pending": {src: self._backlog_locked(src, src) for src in self.names},
                "pushbacks_pending": {dst: len(q) for dst, q in self.pushbacks.items()},
                "errors": dict(self.errors),
                "stream_reseeks": dict(self.reseeks),
                "pairs": pairs,
            }


def _text(seq: int | None) -> str | None:
    return None if seq is None else str(seq)


def _scan(dynamodb, table: str):
    start = None
    while True:
        page = dynamodb.scan(
            TableName=table, ConsistentRead=True, **({"ExclusiveStartKey": start} if start else {})
        )
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def apply_change(
    dynamodb, table: str, change: Change, tombstone, marks: MarkedDeletes | None = None, region: str = ""
) -> Change | None:
    """Applies one change to a region's table with conditional writes (so applying twice is harmless).

    Returns the destination's newer winner when it refused the change, for the push-back to the source. A delete
    registers each mark-then-delete attempt with ``marks`` (see ``marked_deletes.py``)."""
    errors = dynamodb.exceptions
    if not change.is_delete:
        if tombstone is not None and tombstone > change.version:
            return None  # deleted later: don't resurrect
        try:
            dynamodb.put_item(
                TableName=table,
                Item=change.item,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **replication.put_condition(change),
            )
            return None
        except errors.ConditionalCheckFailedException as error:
            return _newer_winner(error, change)
    for _attempt in range(5):
        mark = new_mark(change.version.as_text())
        our_delete_failed = False
        if marks is not None:
            marks.begin(region, mark)
        try:
            try:
                dynamodb.update_item(
                    TableName=table,
                    Key={"key": {"S": change.key}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **replication.delete_mark_condition(change, mark),
                )
            except errors.ConditionalCheckFailedException as error:
                return _newer_winner(error, change)  # absent, or newer than the delete
            try:
                dynamodb.delete_item(
                    TableName=table,
                    Key={"key": {"S": change.key}},
                    **replication.delete_marked_condition(change, mark),
                )
                return None
            except errors.ConditionalCheckFailedException:
                # A local write replaced or deleted the marked item in between: decide again.
                our_delete_failed = True
                continue
        finally:
            if marks is not None:
                marks.finish(region, mark, our_delete_failed)
    return None


def _newer_winner(error, change: Change) -> Change | None:
    old = error.response.get("Item")
    version = replication.item_version(old)
    if (
        old is None
        or replication.REPLICA_DELETE_MARK in old
        or version is None
        or not version > change.version
    ):
        return None
    return Change(change.key, version, old, change.created_ms)


# -------------------------------------------------------------------- admin API


class AdminServer:
    """Loopback JSON API: GET /status, GET /replication-latency, POST /pause|/resume {"region"},
    POST /delay {"ms": int|null}, POST /network {"mode"}, POST /reset."""

    def __init__(self, replicator: Replicator, host: str = "127.0.0.1", port: int = 0):
        self.replicator = replicator
        handler = type("Handler", (_AdminHandler,), {"replicator": replicator})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="admin", daemon=True)

    @property
    def address(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _AdminHandler(BaseHTTPRequestHandler):
    replicator: Replicator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.debug("admin: " + format, *args)

    def _send(self, status: int, document: dict) -> None:
        send_json(self, status, document)

    def _refuse_non_loopback(self) -> bool:
        """Pause and reset change the whole cloud: loopback clients only, as the control API and region admin."""
        loopback = is_loopback(self.client_address[0])
        if not loopback:
            self.close_connection = True
            self._send(403, {"error": "the replicator's admin API answers loopback clients only"})
        return not loopback

    def do_GET(self):  # noqa: N802
        if self._refuse_non_loopback():
            return
        if self.path == "/status":
            return self._send(200, self.replicator.status())
        if self.path == "/replication-latency":
            return self._send(200, self.replicator.latency())
        if self.path in ("/pause", "/resume", "/delay", "/network", "/reset"):
            return self._send(405, {"error": f"use POST for {self.path}"})
        return self._send(404, {"error": f"no such path {self.path}"})

    def do_POST(self):  # noqa: N802
        if self._refuse_non_loopback():
            return
        try:
            body = read_json_object(self, limit=65536)
        except BadBody as error:
            return self._send(error.status, {"error": error.message})
        replicator = self.replicator
        try:
            if self.path in ("/pause", "/resume"):
                region = body.get("region")
                if not isinstance(region, str):
                    raise ValueError('send {"region": "<region name>"}')
                (replicator.pause if self.path == "/pause" else replicator.resume)(region)
                return self._send(200, {"paused": sorted(replicator.paused)})
            if self.path == "/delay":
                if "ms" not in body:
                    raise ValueError('send {"ms": <milliseconds>} or {"ms": null} for the network model')
                ms = body["ms"]
                if ms is not None and (
                    isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms <= 600_000
                ):
                    raise ValueError('"ms" must be an integer from 0 to 600000, or null')
                replicator.set_delay(ms)
                return self._send(200, {"delay_override_ms": ms})
            if self.path == "/network":
                mode = body.get("mode")
                if mode not in ("realistic", "none"):
                    raise ValueError('"mode" must be "realistic" or "none"')
                replicator.set_network(mode)
                return self._send(200, {"network": mode})
            if self.path == "/reset":
                replicator.reset()
                return self._send(200, {"reset": True})
        except ValueError as error:
            return self._send(400, {"error": str(error)})
        if self.path in ("/status", "/replication-latency"):
            return self._send(405, {"error": f"use GET for {self.path}"})
        return self._send(404, {"error": f"no such path {self.path}"})


# -------------------------------------------------------------------- process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend.local.replication", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--config", required=True, help="JSON config file")
    parser.add_argument("--log-level", default=os.environ.get("REPLICATOR_LOG_LEVEL", "WARNING"))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"replicator: {error}", file=sys.stderr)
        return 2
    replicator = Replicator(config)
    admin = AdminServer(replicator, config["admin_host"], int(config["admin_port"]))
    stopped = threading.Event()

    def on_signal(signum, frame):
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    replicator.start()
    admin.start()
    print(json.dumps({"ready": True, "admin": admin.address}), flush=True)
    while not stopped.wait(0.5):
        pass
    admin.stop()
    replicator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

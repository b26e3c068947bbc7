"""One stream reader per source region: seeks its stream (moto has one shard per table), polls it, and turns each
new record into entries of the per-pair queues (``pairs.py``), as ``decisions.decide`` says.

- It resumes from the smallest per-pair checkpoint of its source and re-seeks from there on any read error
  (endpoint down, table reset, ``ExpiredIteratorException`` for a freed iterator), or when asked
  (``request_reseek``: a reset).
- ``TrimmedDataAccessException`` (AWS's answer for a read behind the trim horizon): it re-seeks from
  ``TRIM_HORIZON``, the oldest record kept, and says so in its errors. A region never trims a record the replicator
  has not durably done (``backend/local/dynamodb/stream_retention.py``), so this loses nothing it owes; the
  records read again are skipped.
- A recreated table keeps answering the old iterator (empty, no error), so it compares the table's stream ARN
  every ``STREAM_CHECK_INTERVAL_S``; a new stream means the region restarted: its old positions are forgotten and
  the region is owed a backfill (``backfill.py``).
- Records read twice (a re-seek overlaps) are skipped by ``Pairs.advance_locked``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from backend.local.replication import decisions
from backend.local.replication.backfill import Backfill
from backend.local.replication.decisions import Action
from backend.local.replication.delays import Delays
from backend.local.replication.metrics import Errors
from backend.local.replication.pairs import Entry, Pairs
from backend.local.replication.wire import RegionClients, TrimmedDataAccessException

log = logging.getLogger("backend.local.replicator")

IDLE_AFTER_S = 2.0
STREAM_CHECK_INTERVAL_S = 1.0  # how often a reader checks that its table was not recreated


@dataclass
class ReaderParts:
    """What every reader shares with the rest of the replicator."""

    table: str
    clients: dict[str, RegionClients]
    pairs: Pairs
    delays: Delays
    backfill: Backfill
    errors: Errors
    stopping: threading.Event
    poll_interval_s: float
    idle_poll_interval_s: float


class StreamReader:
    def __init__(self, src: str, parts: ReaderParts):
        self.src = src
        self.parts = parts
        self._reseek = threading.Event()
        self._from_horizon = False  # the next seek starts at TRIM_HORIZON (a read hit the trim horizon)
        self.reseeks = 0  # stream read errors survived (only this reader's thread writes it)
        self.trimmed_reads = 0  # of which TrimmedDataAccessException

    def request_reseek(self) -> None:
        self._reseek.set()

    def run(self) -> None:
        parts, src = self.parts, self.src
        clients = parts.clients[src]
        iterator = None
        backoff = 0.05
        last_check = time.monotonic()
        last_record = 0.0
        while not parts.stopping.is_set():
            if self._reseek.is_set():
                self._reseek.clear()
                iterator = None
            try:
                if iterator is not None and time.monotonic() - last_check > STREAM_CHECK_INTERVAL_S:
                    # A recreated table keeps answering the old iterator (empty, no error): compare the ARN.
                    last_check = time.monotonic()
                    table = clients.dynamodb.describe_table(TableName=parts.table)["Table"]
                    if table.get("LatestStreamArn") != parts.pairs.stream(src):
                        iterator = None
                if iterator is None:
                    iterator = self.seek(clients)
                    last_check = time.monotonic()
                answer = clients.replication.get_records(ShardIterator=iterator, Limit=1000)  # with versions
            except TrimmedDataAccessException as error:
                self._trimmed(f"reading the stream: {error}")
                iterator = None
                continue
            except Exception as error:
                # endpoint down, table reset, moto's HTML 500 on a bad iterator: re-seek from the checkpoint
                parts.errors.note(src, f"reading the stream: {type(error).__name__}: {error}")
                self.reseeks += 1
                iterator = None
                parts.stopping.wait(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.05
            parts.errors.clear(src)
            records = answer.get("Records", [])
            iterator = answer.get("NextShardIterator")
            if records:
                last_record = time.monotonic()
                self.take(records)
            elif time.monotonic() - last_record < IDLE_AFTER_S:
                parts.stopping.wait(parts.poll_interval_s)
            else:
                parts.stopping.wait(parts.idle_poll_interval_s)

    def _trimmed(self, what: str) -> None:
        self.parts.errors.note(
            self.src, f"{what}: records trimmed before they were read; reading again from TRIM_HORIZON"
        )
        self.reseeks += 1
        self.trimmed_reads += 1
        self._from_horizon = True

    def seek(self, clients: RegionClients) -> str:
        parts, src = self.parts, self.src
        table = clients.dynamodb.describe_table(TableName=parts.table)["Table"]
        arn = table.get("LatestStreamArn")
        if not arn:
            raise RuntimeError(f"the table {parts.table} in {src} has no stream")
        with parts.pairs.cond:
            if parts.pairs.stream_seen_locked(src, arn):
                # Under the queues' lock, so the state file never holds the new stream without the backfill owed.
                parts.backfill.table_recreated(src)
            resume = parts.pairs.resume_point_locked(src)
        shard = clients.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        if resume is None or self._from_horizon:
            kwargs = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": str(resume)}
        try:
            answer = clients.streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], **kwargs)
        except TrimmedDataAccessException as error:
            # The checkpoint is not in the stream any more (trimmed past it): start from the oldest record left.
            self._trimmed(f"seeking checkpoint {resume}: {error}")
            answer = clients.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )
        self._from_horizon = False
        parts.pairs.seeked(src, resume)
        return answer["ShardIterator"]

    def take(self, records: list[dict]) -> None:
        """Queues a batch of records read from the stream, in order."""
        pairs = self.parts.pairs
        with pairs.cond:
            for record in records:
                self.take_record_locked(record)
            pairs.read_locked()

    def take_record_locked(self, record: dict) -> None:
        parts, src = self.parts, self.src
        seq = int(record["dynamodb"]["SequenceNumber"])
        new, previous = parts.pairs.advance_locked(src, seq, record.get("eventID"))
        if not new or parts.pairs.discarded_locked(src, decisions.creation_ms(record)):
            return
        decision = decisions.decide(record)
        if decision.action is Action.SKIP:
            if "hidden version" in decision.reason:
                parts.errors.note(src, decision.reason)
            return
        change = decision.change
        for dst in decisions.destinations(decision, src, parts.pairs.names):
            due = change.created_ms + parts.delays.delay_ms(src, dst)
            parts.pairs.enqueue_locked(src, dst, Entry(due, seq, previous, change, src))

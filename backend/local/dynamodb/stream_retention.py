"""How long a region keeps its stream records: 24 hours for every consumer, within a memory cap per shard.

AWS (DynamoDB Developer Guide, "Change data capture for DynamoDB Streams"; GetRecords and GetShardIterator in the
DynamoDB Streams API reference): a stream record stays readable for 24 hours, whoever reads it and however often;
past that it is trimmed, and a reader asking for a trimmed record gets ``TrimmedDataAccessException``. moto keeps
every record forever. Here each shard's record list is an ``OffsetList`` from the shard's creation on (the
``stream_retention`` patch), which stamps every record with the region's clock (``versions.now_us``, which the
region's clock-offset fault and tests move) and trims the oldest records first when

- a record is older than ``RETENTION_S`` (24 h of the region's clock): the janitor's sweep, every few seconds, or
- the shard holds more than ``RECORD_CAP`` records, or more than ``SIZE_CAP_BYTES`` of records (as moto counts
  ``SizeBytes``): at once, on the write that crossed it.

**The cap yields to correctness**: a record the replicator has not durably done (its checkpoint for this stream,
which its housekeeping sends as ``upto``, ``guard()``) is never trimmed, neither by the cap nor by age. While the
replicator is behind, the shard holds max(cap, records not done) records: memory grows past the cap only by
what replication owes. A region that has never heard from a replicator (a one-region cloud) trims freely; from the
first word on, a stream the replicator has no checkpoint for (a recreated table) is kept whole until it has one.

Why these caps (measured in a region process, moto 5.2.5, the app's items: a key, a 100-byte value, region,
writtenAt; ``NEW_AND_OLD_IMAGES``): a MODIFY record costs ~3.3 KB of RSS (moto keeps both images as JSON dicts;
20,000 records: 98 → 160 MB) for ~0.5 KB of ``SizeBytes``. The local cloud's target is a stack ≤ 300 MB during a
100,000-write burst into one region of two; idle, the stack is ~238 MB, and a burst fills both regions' streams
(the replicated writes have records too). 4,000 records ≈ 13 MB a region, ~26 MB for both. Measured (wrk POSTs into
us-west-2 of a two-region cloud, 2,000 keys, network none, 70 s): 26,554 writes at 379/s, stack peak 276 MB with
4,000 records kept in each region; 5,000 gave 292 MB (32,155 writes); before this module, 273 MB with none kept
(30,215 writes). ``SIZE_CAP_BYTES`` bounds big items the same way: 8 MiB of ``SizeBytes`` is ~20 records of 400 KB
items.
"""

from __future__ import annotations

import threading
from array import array

from backend.local.dynamodb import versions
from backend.local.dynamodb.write_lock import WRITE_LOCK

RETENTION_S = 24 * 3600  # AWS: "stream records ... are removed automatically after 24 hours"
RECORD_CAP = 4_000  # per shard; ~3.3 KB of RSS each for the app's items (see above)
SIZE_CAP_BYTES = 8 * 2**20  # per shard, the sum of the records' SizeBytes (moto's overestimate of the JSON)
_MARK = "_mrkv_stream_retention"


class TrimmedPosition(LookupError):
    """A read at a position the shard no longer holds (behind its trim horizon)."""

    def __init__(self, position: int, horizon: int):
        super().__init__(f"position {position} was trimmed; the oldest kept is {horizon}")
        self.position, self.horizon = position, horizon


def _size_of(record) -> int:
    try:
        return int(record.record["dynamodb"]["SizeBytes"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return 0


class OffsetList(list):
    """A shard's records: a list whose first ``offset`` elements were dropped but still count in ``len`` and in
    slices, so moto's numbering (``len(items) + start``) goes on. Reading from a dropped position raises
    ``TrimmedPosition``. Appends happen under ``patches.WRITE_LOCK`` (every ``StreamShard.add`` takes it), and so
    do trims; the list's own lock orders reads against trims."""

    def __init__(self, items=(), clock=None):
        super().__init__(items)
        self.offset = 0
        self._lock = threading.Lock()
        self._clock = clock or versions.now_us
        now = self._clock()
        self.stamps = array("q", [now] * list.__len__(self))  # the region's clock (µs) at each append
        self.sizes = array("q", (_size_of(record) for record in list.__iter__(self)))
        self.size_bytes = sum(self.sizes)
        # Absolute positions below ``trimmable`` may be trimmed; None: no replicator guards this stream.
        self.trimmable: int | None = None
        self.record_cap, self.size_cap = RECORD_CAP, SIZE_CAP_BYTES

    def __len__(self):
        with self._lock:
            return self.offset + super().__len__()

    def __getitem__(self, index):
        with self._lock:
            if isinstance(index, slice):
                start, stop, step = index.start, index.stop, index.step
                if start is not None and 0 <= start < self.offset:
                    raise TrimmedPosition(start, self.offset)
                start = None if start is None else max(0, start - self.offset)
                stop = None if stop is None else max(0, stop - self.offset)
                return list.__getitem__(self, slice(start, stop, step))
            if index < 0:
                return list.__getitem__(self, index)
            if index < self.offset:
                raise TrimmedPosition(index, self.offset)
            return list.__getitem__(self, index - self.offset)

    def __iter__(self):
        with self._lock:
            return iter(list.__getitem__(self, slice(None)))

    def append(self, record) -> None:
        list.append(self, record)
        size = _size_of(record)
        self.stamps.append(self._clock())
        self.sizes.append(size)
        self.size_bytes += size
        if list.__len__(self) > self.record_cap or self.size_bytes > self.size_cap:
            self.trim_to_cap()

    def stored(self) -> int:
        return list.__len__(self)

    def horizon(self) -> int:
        """The position of the oldest record kept (TRIM_HORIZON)."""
        return self.offset

    def _bounded(self, count: int) -> int:
        """``count`` front records, fewer if the guard forbids (never a record the replicator has not done)."""
        if self.trimmable is not None:
            count = min(count, self.trimmable - self.offset)
        return max(0, min(count, list.__len__(self)))

    def trim_through(self, position: int, guarded: bool = True) -> int:
        """Drops the elements at absolute positions < ``position`` (within the guard unless ``guarded`` is False);
        returns how many were dropped."""
        with self._lock:
            count = position - self.offset
            count = self._bounded(count) if guarded else max(0, min(count, list.__len__(self)))
            if count:
                del self[:count]  # list.__delitem__: not overridden, works on the stored elements
                self.size_bytes -= sum(self.sizes[:count])
                del self.stamps[:count]
                del self.sizes[:count]
                self.offset += count
            return count

    def trim_to_cap(self) -> int:
        """Drops the oldest records until both caps hold, within the guard."""
        stored = list.__len__(self)
        count = max(0, stored - self.record_cap)
        excess = self.size_bytes - sum(self.sizes[:count]) - self.size_cap
        while excess > 0 and count < stored:
            excess -= self.sizes[count]
            count += 1
        return self.trim_through(self.offset + count) if count else 0

    def expire(self, now_us: int, retention_s: float = RETENTION_S) -> int:
        """Drops the front records stamped more than ``retention_s`` before ``now_us``, within the guard."""
        oldest_kept = now_us - int(retention_s * 1_000_000)
        count = 0
        for stamp in self.stamps:
            if stamp >= oldest_kept:
                break
            count += 1
        return self.trim_through(self.offset + count) if count else 0


# -- the guard: what the replicator has durably done, per (region, table) ---------------------------------------

_guards: dict[tuple[str, str], tuple[str | None, int | None]] = {}
_guards_lock = threading.Lock()


def guard(region: str, table_name: str, shard, stream_arn: str | None, upto: int | None) -> bool:
    """Records the replicator's durable checkpoint for the table's stream (``stream_arn``, ``upto``) and applies it
    to the shard's list; returns whether it names the current stream (False: stale, nothing may be trimmed)."""
    with _guards_lock:
        _guards[(region, table_name)] = (stream_arn, upto)
    if shard is None:
        return False
    items = offset_items(shard)
    current = stream_arn is not None and stream_arn == _stream_arn(shard)
    if current and upto is not None:
        items.trimmable = int(upto) - shard.starting_sequence_number + 1
    else:
        items.trimmable = 0  # the replicator has done nothing of this stream yet
    return current


def _stream_arn(shard) -> str:
    table = shard.table
    return f"{table.table_arn}/stream/{table.latest_stream_label}"


def retain(shard, now_us: int | None = None) -> int:
    """Expires records older than 24 h and enforces the caps on one shard; returns how many were trimmed."""
    with WRITE_LOCK:  # no add() in between
        items = offset_items(shard)
        now = versions.now_us() if now_us is None else now_us
        return items.expire(now) + items.trim_to_cap()


def offset_items(shard) -> OffsetList:
    """The shard's records as an OffsetList: a shard made before ``install()`` is swapped once (its records get the
    time of the swap). The swap holds the write lock, so no record is appended to a list being replaced."""
    with WRITE_LOCK:
        if not isinstance(shard.items, OffsetList):
            shard.items = _new_list(shard, shard.items)
        return shard.items


def _new_list(shard, items=()) -> OffsetList:
    fresh = OffsetList(items)
    table = getattr(shard, "table", None)
    if table is not None:
        with _guards_lock:
            guarded = (table.region_name, table.name) in _guards
        fresh.trimmable = 0 if guarded else None  # a new stream: the replicator has no checkpoint for it yet
    return fresh


def install() -> int:
    """Every StreamShard made from now on keeps its records in an OffsetList (1 if installed now, else 0)."""
    import functools

    from moto.dynamodb.models.table import StreamShard

    original = StreamShard.__init__
    if getattr(original, _MARK, False):
        return 0

    @functools.wraps(original)
    def with_retention(self, account_id, table, *args, **kwargs):
        original(self, account_id, table, *args, **kwargs)
        self.items = _new_list(self, self.items)

    setattr(with_retention, _MARK, True)
    StreamShard.__init__ = with_retention
    return 1

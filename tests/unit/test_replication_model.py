"""Model-based test of the replication core (Hypothesis stateful testing).

Three simulated regions hold items exactly as DynamoDB stores them and append stream records exactly as moto emits
them (INSERT / MODIFY / REMOVE with images and a creation time). Local writes are unconditional, as the handler's
are, and use a per-region clock that may be skewed. A simulated replicator drives the real core
(``decisions.decide``, ``accepts``, ``Tombstones``): it reads records in order per region, and the network
delivers its changes delayed, reordered and duplicated, and holds them back from partitioned regions.

The model is a plain dictionary: for each key, every acknowledged write with its version; the expected value of a key
is the write with the highest (timestamp, region, put<delete, value). After healing and draining, every region must
equal that model; after every step, no region may hold a value that was never written, nor anything newer than
the newest write of the key, and replication must not echo.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from backend.local.replication import decisions
from backend.local.replication.decisions import REPLICA_DELETE_MARK, Action, Change
from backend.local.replication.tombstones import Tombstones

REGIONS = ("ap-northeast-1", "eu-central-1", "us-west-2")
KEYS = ("a", "b", "c")
VALUES = ("x", "y", "z")


def model_order(write: dict) -> tuple:
    """The test's own statement of last-writer-wins (independent of the code under test)."""
    return (write["ts"], write["region"], 1 if write["delete"] else 0, write.get("value", ""))


class Region:
    def __init__(self, name):
        self.name = name
        self.items: dict[str, dict] = {}
        self.stream: list[dict] = []
        self.read = 0  # the replicator's position in this stream

    def write(self, key, new, now_ms):
        old = self.items.get(key)
        if new is None:
            if old is None:
                return
            del self.items[key]
            self._record("REMOVE", key, old, None, now_ms)
        else:
            self.items[key] = new
            self._record("INSERT" if old is None else "MODIFY", key, old, new, now_ms)

    def _record(self, event, key, old, new, now_ms):
        body = {
            "Keys": {"key": {"S": key}},
            "SequenceNumber": str(len(self.stream) + 1),
            "ApproximateCreationDateTime": now_ms / 1000,
        }
        if old is not None:
            body["OldImage"] = dict(old)
        if new is not None:
            body["NewImage"] = dict(new)
        self.stream.append({"eventName": event, "dynamodb": body})


def make_item(key, value, region, ts):
    return {"key": {"S": key}, "value": {"S": value}, "region": {"S": region}, "writtenAt": {"N": str(ts)}}


class ReplicationMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.now = 1_000
        self.regions = {name: Region(name) for name in REGIONS}
        self.tombstones = Tombstones()
        self.in_flight: list[tuple[str, str, Change]] = []  # (source, destination, change)
        self.partitioned: set[str] = set()
        self.writes: dict[str, list[dict]] = {key: [] for key in KEYS}
        self.local_writes = 0
        self.replications = 0
        self.repairs = 0

    # ----------------------------------------------------------- clients

    @rule(
        region=st.sampled_from(REGIONS),
        key=st.sampled_from(KEYS),
        value=st.sampled_from(VALUES),
        skew=st.sampled_from([0, 0, 0, -3, 2, -50]),
    )
    def put(self, region, key, value, skew):
        ts = self.now + skew
        self.regions[region].write(key, make_item(key, value, region, ts), self.now)
        self.writes[key].append({"delete": False, "ts": ts, "region": region, "value": value})
        self.local_writes += 1

    @rule(region=st.sampled_from(REGIONS), key=st.sampled_from(KEYS))
    def delete(self, region, key):
        target = self.regions[region]
        if key not in target.items:
            return  # deleting a missing key writes nothing, as in DynamoDB
        target.write(key, None, self.now)
        self.writes[key].append({"delete": True, "ts": self.now, "region": region})
        self.local_writes += 1

    @rule(ms=st.sampled_from([0, 1, 1, 2, 10]))
    def tick(self, ms):
        self.now += ms

    # ----------------------------------------------------------- the replicator

    @rule(region=st.sampled_from(REGIONS), count=st.integers(1, 4))
    def read_stream(self, region, count):
        for _ in range(count):
            self._read_one(region)

    def _read_one(self, region) -> bool:
        source = self.regions[region]
        if source.read >= len(source.stream):
            return False
        record = source.stream[source.read]
        source.read += 1
        key = record["dynamodb"]["Keys"]["key"]["S"]
        decision = decisions.decide(record, region, self.tombstones.get(key))
        if decision.action is Action.SKIP:
            return True
        change = decision.change
        if change.is_delete:
            self.tombstones.record(key, change.version)
        if decision.action is Action.REPAIR:
            self.repairs += 1
        else:
            self.replications += 1
        self.in_flight.extend(
            (region, dst, change) for dst in decisions.destinations(decision, region, REGIONS)
        )
        return True

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data(), duplicate=st.booleans())
    def deliver(self, data, duplicate):
        ready = [i for i, (_, dst, _) in enumerate(self.in_flight) if dst not in self.partitioned]
        if not ready:
            return
        index = data.draw(st.sampled_from(ready))  # any order: delayed and reordered deliveries
        source, destination, change = self.in_flight[index]
        if not duplicate:
            self.in_flight.pop(index)
        self._apply(source, destination, change)

    def _apply(self, source, destination, change: Change):
        """What the replicator's conditional writes do in the destination (mark + delete for a delete)."""
        target = self.regions[destination]
        current_item = target.items.get(change.key)
        current = decisions.item_version(current_item)
        if decisions.accepts(current, self.tombstones.get(change.key), change):
            if change.is_delete:
                marked = dict(current_item, **{REPLICA_DELETE_MARK: {"S": change.version.as_text()}})
                target.write(change.key, marked, self.now)
                target.write(change.key, None, self.now)
            else:
                target.write(change.key, dict(change.item), self.now)
        elif current is not None and current > change.version and source != destination:
            # The destination holds a newer winner: push it back to the source (anti-entropy).
            self.in_flight.append((destination, source, Change(change.key, current, current_item, self.now)))

    @rule(region=st.sampled_from(REGIONS))
    def partition(self, region):
        self.partitioned.add(region)

    @rule(region=st.sampled_from(REGIONS))
    def heal(self, region):
        self.partitioned.discard(region)

    # ----------------------------------------------------------- invariants

    @invariant()
    def holds_only_written_values_never_newer_than_the_newest_write(self):
        for region in self.regions.values():
            for key, stored in region.items.items():
                assert REPLICA_DELETE_MARK not in stored
                candidates = [w for w in self.writes[key] if not w["delete"]]
                version = (int(stored["writtenAt"]["N"]), stored["region"]["S"], 0, stored["value"]["S"])
                assert version in {model_order(w) for w in candidates}, f"{key}={stored} was never written"
                assert version <= max(model_order(w) for w in self.writes[key])

    @invariant()
    def no_echo(self):
        # Each local write is replicated at most once; repairs re-replicate at most once each.
        assert self.replications <= self.local_writes + self.repairs

    def teardown(self):
        if not hasattr(self, "regions"):
            return
        self.partitioned.clear()
        for _ in range(10_000):  # drain: read every stream, deliver everything, until nothing moves
            moved = any([self._read_one(name) for name in REGIONS])
            if self.in_flight:
                source, destination, change = self.in_flight.pop(0)
                self._apply(source, destination, change)
                moved = True
            if not moved:
                break
        else:
            raise AssertionError("replication never quiesced: an echo or a loop")
        expected = {}
        for key, writes in self.writes.items():
            if writes:
                best = max(writes, key=model_order)
                if not best["delete"]:
                    expected[key] = make_item(key, best["value"], best["region"], best["ts"])
        for name, region in self.regions.items():
            assert region.items == expected, f"{name} did not converge to the last writer"


ReplicationMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestReplicationModel = ReplicationMachine.TestCase

"""Model-based test of the local global tables (Hypothesis stateful testing).

Three simulated regions hold items as DynamoDB stores them, keep hidden versions with the real region-side code
(``versions.TableVersions``: a local write takes max(its skewed clock, newest + 1 µs); a replicated write is taken
only if newer than the item or its tombstone) and append stream records as the region's door shows them (INSERT /
MODIFY / REMOVE with images, the hidden version and whether the write was replicated). Clients write as any
DynamoDB client may: whole items without our app's attributes, updates of a few attributes of an item born
elsewhere, deletes. A simulated replicator drives the real decision core (``decisions.decide``): it reads records in
order per region, and the network delivers its changes delayed, reordered and duplicated, and holds them back from
partitioned regions.

The model is a plain dictionary: for each key, every acknowledged write with the version it got and the item it
left behind; the expected state of a key is the write with the highest version (tuple order, stated here, not taken
from the code under test). After healing and draining, every region must equal that model; after every step no
region may hold an item that no write left behind, and replication must not echo.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from backend.local.dynamodb.versions import TableVersions, as_text
from backend.local.replication import decisions
from backend.local.replication.decisions import Action, Change

REGIONS = ("ap-northeast-1", "eu-central-1", "us-west-2")
KEYS = ("a", "b", "c")
VALUES = ("x", "y", "z")


class Region:
    def __init__(self, name):
        self.name = name
        self.items: dict[str, dict] = {}
        self.versions = TableVersions()
        self.stream: list[dict] = []
        self.read = 0  # the replicator's position in this stream

    def local_write(self, key, new, clock_us):
        """A client's write (new None: a delete): stamped with the region's clock. Returns its version."""
        version = self.versions.next_local(key, clock_us, self.name)
        self._change(key, new, version, replica=False, clock_us=clock_us)
        return version

    def replicated_write(self, change: Change, clock_us) -> bool:
        """What the region's door does with a replicated change."""
        if not self.versions.accepts(change.key, change.version):
            return False
        self._change(change.key, None if change.is_delete else dict(change.item), change.version, True, clock_us)
        return True

    def _change(self, key, new, version, replica, clock_us):
        old = self.items.get(key)
        if new is None:
            self.versions.deleted(key, version, clock_us)
            if old is None:
                return  # deleting a missing item writes no record, as in DynamoDB
            del self.items[key]
            event = "REMOVE"
        else:
            self.versions.stored(key, version)
            self.items[key] = new
            event = "INSERT" if old is None else "MODIFY"
        body = {"Keys": {"key": {"S": key}}, "SequenceNumber": str(len(self.stream) + 1),
                "ApproximateCreationDateTime": clock_us / 1_000_000}  # fmt: skip
        if new is not None:
            body["NewImage"] = dict(new)
        record = {"eventName": event, "dynamodb": body, "mrkv": {"version": as_text(version), "replica": replica}}
        self.stream.append(record)


class ReplicationMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.now = 1_000_000  # µs
        self.regions = {name: Region(name) for name in REGIONS}
        self.in_flight: list[tuple[str, str, Change]] = []  # (source, destination, change)
        self.partitioned: set[str] = set()
        self.writes: dict[str, list[tuple]] = {key: [] for key in KEYS}  # (version, item left behind or None)
        self.local_writes = 0
        self.replications = 0

    # ----------------------------------------------------------- clients (any DynamoDB client)

    def _write(self, region, key, new, skew):
        version = self.regions[region].local_write(key, new, self.now + skew)
        self.writes[key].append((version, None if new is None else dict(new)))
        self.local_writes += 1

    @rule(
        region=st.sampled_from(REGIONS),
        key=st.sampled_from(KEYS),
        value=st.sampled_from(VALUES),
        skew=st.sampled_from([0, 0, 0, -3, 2, -50]),
    )
    def put(self, region, key, value, skew):
        """A plain PutItem: no region, no writtenAt, nothing of our app's."""
        self._write(region, key, {"key": {"S": key}, "data": {"S": value}}, skew)

    @rule(region=st.sampled_from(REGIONS), key=st.sampled_from(KEYS), value=st.sampled_from(VALUES))
    def update(self, region, key, value):
        """An UpdateItem (SET n = n + 1, SET other = value) of whatever this region holds, born anywhere."""
        current = self.regions[region].items.get(key, {"key": {"S": key}})
        counter = int(current.get("n", {"N": "0"})["N"]) + 1
        self._write(region, key, {**current, "n": {"N": str(counter)}, "other": {"S": value}}, 0)

    @rule(region=st.sampled_from(REGIONS), key=st.sampled_from(KEYS))
    def delete(self, region, key):
        if key not in self.regions[region].items:
            return  # deleting a missing key writes nothing, as in DynamoDB
        self._write(region, key, None, 0)

    @rule(us=st.sampled_from([0, 1, 1, 2, 10, 1000]))
    def tick(self, us):
        self.now += us

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
        decision = decisions.decide(record)
        if decision.action is Action.SKIP:
            return True
        self.replications += 1
        self.in_flight.extend(
            (region, dst, decision.change) for dst in decisions.destinations(decision, region, REGIONS)
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
        self.regions[destination].replicated_write(change, self.now)

    @rule(region=st.sampled_from(REGIONS))
    def partition(self, region):
        self.partitioned.add(region)

    @rule(region=st.sampled_from(REGIONS))
    def heal(self, region):
        self.partitioned.discard(region)

    # ----------------------------------------------------------- invariants

    @invariant()
    def holds_only_what_some_write_left_behind_never_newer_than_the_newest(self):
        for region in self.regions.values():
            for key, stored in region.items.items():
                left = [item for _, item in self.writes[key]]
                assert stored in left, f"{key}={stored} was never written"
                held = region.versions.live[key]
                assert held <= max(version for version, _ in self.writes[key])

    @invariant()
    def no_echo(self):
        assert self.replications <= self.local_writes  # each local write is replicated once at most

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
                _version, item = max(writes, key=lambda write: write[0])  # last writer wins on the version
                if item is not None:
                    expected[key] = item
        for name, region in self.regions.items():
            assert region.items == expected, f"{name} did not converge to the last writer"


ReplicationMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestReplicationModel = ReplicationMachine.TestCase

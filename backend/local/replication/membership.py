"""Replica groups of global tables, carried out: what ``UpdateTable`` ``ReplicaUpdates`` asked for in any region.

A region answers ``UpdateTable`` itself and records an intent on its table (``backend/local/dynamodb/replicas.py``).
Every ``POLL_INTERVAL_S`` this loop asks each region's door for its global tables and their intents
(``ListReplicaIntents``), then:

- **Create** region R of table T (recorded in region S): creates T in R as S describes it (key schema, attributes,
  billing, indexes; a stream of new and old images), marks R ``CREATING`` in every replica (``SetReplicas``), and
  has T's replicator (``fleet.py``) replicate among the group, R included, and backfill R from the others with the
  hidden versions (``backfill.py``: ScanVersions + ApplyChanges). When that backfill is done, R is ``ACTIVE``
  everywhere.
- **Delete** region R: T's replicator stops replicating to and from R, the others drop R from their group, and T is
  deleted in R. A group left with one region is a regional table again (no ``Replicas``).

Why the replicator keeps ``groups`` itself: it is the one writer of the groups after the first sight of a table, so
a region that missed a publication (it was down) is set right by the next one. Every step is idempotent (a table
that exists is kept, a backfill takes only newer versions, a publication replaces the group), so an intent whose
publication failed is simply carried out again.
"""

from __future__ import annotations

import logging

from backend.local.dynamodb.replicas import ACTIVE, CREATING, NEW_AND_OLD
from backend.local.replication.metrics import Errors
from backend.local.replication.wire import WireError

log = logging.getLogger("backend.local.replicator")

# An added replica's backfill starts within this of UpdateTable; each poll costs a region ~1 ms.
POLL_INTERVAL_S = 0.25


def create_request(table: dict) -> dict:
    """CreateTable of a new replica from the source's TableDescription: same keys, attributes, billing and indexes."""
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    request = {
        "TableName": table["TableName"],
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": table["AttributeDefinitions"],
        "BillingMode": billing,
        "StreamSpecification": dict(NEW_AND_OLD),
    }
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = _throughput(table.get("ProvisionedThroughput"))
    gsis = [_index(index, billing) for index in table.get("GlobalSecondaryIndexes") or []]
    lsis = [_index(index, "PAY_PER_REQUEST") for index in table.get("LocalSecondaryIndexes") or []]
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    if lsis:
        request["LocalSecondaryIndexes"] = lsis
    return request


def _throughput(given: dict | None) -> dict:
    given = given or {}
    return {
        "ReadCapacityUnits": max(1, int(given.get("ReadCapacityUnits") or 1)),
        "WriteCapacityUnits": max(1, int(given.get("WriteCapacityUnits") or 1)),
    }


def _index(index: dict, billing: str) -> dict:
    created = {name: index[name] for name in ("IndexName", "KeySchema", "Projection")}
    # a local index has no throughput of its own: it is passed billing PAY_PER_REQUEST
    if billing == "PROVISIONED":
        created["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
    return created


class Membership:
    """The loop of ``fleet.membership``: reads intents, carries them out, marks backfilled replicas ACTIVE."""

    def __init__(self, fleet):
        self.fleet = fleet
        self.groups: dict[str, dict[str, str]] = {}  # table -> region -> ReplicaStatus, as last published
        self.strong: dict[str, dict] = {}  # table -> its MRSC settings (witnesses), for MRSC tables
        self.backfilling: dict[
            tuple[str, str], object
        ] = {}  # (table, region) -> replicator owing the backfill
        self.stale: set[str] = set()  # tables whose last publication missed a region: published again
        self.errors = Errors()

    def run(self) -> None:
        while not self.fleet.stopping.wait(POLL_INTERVAL_S):
            try:
                self.round()
            except Exception as error:  # a bug must not end the loop: said in the status, tried again
                log.exception("membership round failed")
                self.errors.note("membership", f"{type(error).__name__}: {error}")

    def round(self) -> None:
        changed: set[str] = set()
        for region, entry in self._views():
            name = entry["TableName"]
            if name in changed:  # this view was read before the change: the next round reads it again
                continue
            # first sight: a new global table, or the replicator restarted
            self.groups.setdefault(name, dict(entry["Replicas"]))
            if entry.get("Strong"):  # MRSC: every replica learns it with the group
                self.strong[name] = entry["Strong"]
            for intent in entry.get("Intents", []):
                self._carry_out(name, region, intent)
                changed.add(name)
        for name in list(self.groups):
            self._settle(name)

    def _views(self) -> list[tuple[str, dict]]:
        views = []
        for region, clients in self.fleet.clients.items():
            try:
                answer = clients.replication.list_replica_intents()
            except Exception as error:  # a region down or restarting: the next round asks again
                self.errors.note(region, f"listing replica intents: {type(error).__name__}: {error}")
                continue
            self.errors.clear(region)
            views += [(region, entry) for entry in answer.get("Tables", [])]
        return views

    # ---------------------------------------------------------------- intents

    def _carry_out(self, name: str, src: str, intent: dict) -> None:
        target = intent["RegionName"]
        try:
            if intent["Action"] == "Create":
                self._create(name, src, target, intent["Id"])
            else:
                self._delete(name, src, target, intent["Id"])
        except Exception as error:  # the intent stays in its region: carried out again next round
            self.errors.note(target, f"{intent['Action']} replica of {name}: {type(error).__name__}: {error}")

    def _create(self, name: str, src: str, target: str, intent_id: str) -> None:
        source = self.fleet.clients[src].dynamodb.describe_table(TableName=name)["Table"]
        try:
            self.fleet.clients[target].dynamodb.create_table(**create_request(source))
        except WireError as error:
            if error.code != "ResourceInUseException":  # it exists already: an intent carried out again
                raise
        group = self.groups[name]
        if group.get(target) != ACTIVE:
            group[target] = CREATING
        group.setdefault(src, ACTIVE)
        self._publish(name, sorted(group), {src: [intent_id]})
        log.warning("%s: replica in %s created, backfilling", name, target)

    def _delete(self, name: str, src: str, target: str, intent_id: str) -> None:
        group = self.groups[name]
        group.pop(target, None)
        members = sorted(group)
        if len(group) < 2:
            group.clear()  # one region left: a regional table again
        # nothing more to or from the target before its table goes
        self.fleet.ensure(name, self._replicating(group))
        self._publish(name, members, {src: [intent_id]})
        try:
            self.fleet.clients[target].dynamodb.delete_table(TableName=name)
        except WireError as error:
            if error.code != "ResourceNotFoundException":
                raise
        self.backfilling.pop((name, target), None)
        if not group:
            del self.groups[name]
        log.warning("%s: replica in %s deleted", name, target)

    # ---------------------------------------------------------------- replicas being created

    def _settle(self, name: str) -> None:
        """Replicates among the group and turns each CREATING replica ACTIVE once its backfill is done."""
        group = self.groups[name]
        replicator = self.fleet.ensure(name, self._replicating(group))
        if replicator is None:
            return
        ready = []
        for region, status in sorted(group.items()):
            if status != CREATING:
                continue
            if self.backfilling.get((name, region)) is not replicator:  # new, or the replicator changed since
                replicator.backfill.request(region)
                replicator.dirty.set()
                self.backfilling[(name, region)] = replicator
            elif region not in replicator.backfill.pending():
                ready.append(region)
        for region in ready:
            group[region] = ACTIVE
            del self.backfilling[(name, region)]
            log.warning("%s: replica in %s is ACTIVE", name, region)
        if ready or name in self.stale:
            self._publish(name, sorted(group), {})

    @staticmethod
    def _replicating(group: dict[str, str]) -> list[str]:
        return [region for region, status in group.items() if status in (ACTIVE, CREATING)]

    def _publish(self, name: str, regions: list[str], done: dict[str, list[str]]) -> None:
        """Sets the group in each of ``regions`` (and drops the intents carried out there)."""
        group = self.groups.get(name, {})
        self.stale.discard(name)
        for region in regions:
            try:
                self.fleet.clients[region].replication.set_replicas(
                    TableName=name, Replicas=group, DoneIntents=done.get(region, []), Strong=self.strong.get(name)
                )
            except Exception as error:  # down: published again next round
                if group:
                    self.stale.add(name)
                self.errors.note(
                    region, f"publishing the replicas of {name}: {type(error).__name__}: {error}"
                )

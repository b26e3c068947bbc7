"""Multi-Region strong consistency (MRSC) as a region sees a table: which tables are MRSC, their witness, what
``DescribeTable`` shows, and the requests an MRSC table refuses. How its writes and strong reads work is in
``strong_protocol.py``; how a region reaches the others in ``strong_peers.py``.

AWS documents (DynamoDB Developer Guide, "Multi-Region strong consistency" and "Global tables: consistency modes";
API reference: UpdateTable ``MultiRegionConsistency``, ``GlobalTableWitnessUpdates``; TableDescription
``MultiRegionConsistency``, ``GlobalTableWitnesses``):

- an MRSC global table has exactly three regions: three replicas, or two replicas and one witness, all of one region
  set (``REGION_SETS``); the mode is chosen when replicas are added to an empty table and never changes;
- MRSC tables have no time to live, no local secondary indexes and no transactions.

The messages below are ours (AWS names the code, ``ValidationException``, not every message); ``docs/FIDELITY.md``
says so. Kept on moto's ``Table`` object, as the replicas and the versions are.
"""

from __future__ import annotations

STRONG, EVENTUAL = "STRONG", "EVENTUAL"
REGION_SETS = {
    "US": ("us-east-1", "us-east-2", "us-west-2"),
    "EU": ("eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"),
    "AP": ("ap-northeast-1", "ap-northeast-2", "ap-northeast-3"),
}
CONFLICT_MESSAGE = (
    "The request was rejected because one or more items in the request are being modified by a request in another "
    "Region."
)
ISOLATED_MESSAGE = (
    "Internal server error: this Region cannot reach the other Regions of the multi-Region strongly consistent "
    "global table, so it can neither acknowledge a write nor serve a strongly consistent read (the local cloud "
    "isolated it)"
)


def region_set(region: str) -> str | None:
    return next((name for name, members in REGION_SETS.items() if region in members), None)


def check_group(replicas, witnesses) -> None:
    """ValueError (a ValidationException) unless ``replicas`` + ``witnesses`` make a valid MRSC group."""
    replicas, witnesses = list(replicas), list(witnesses)
    if len(witnesses) > 1:
        raise ValueError("A multi-Region strongly consistent global table can have at most one witness")
    overlap = set(replicas) & set(witnesses)
    if overlap:
        raise ValueError(f"The witness must be in a Region without a replica: {', '.join(sorted(overlap))}")
    members = replicas + witnesses
    if len(members) != 3 or len(set(members)) != 3:
        raise ValueError(
            "A multi-Region strongly consistent global table needs exactly three Regions (three replicas, or two "
            f"replicas and one witness); this request makes {len(set(members))}: {', '.join(members)}"
        )
    sets = {region: region_set(region) for region in members}
    outside = [region for region, name in sets.items() if name is None]
    if outside:
        raise ValueError(
            f"Multi-Region strong consistency is not available in {', '.join(outside)}; the Region sets are "
            + "; ".join(f"{name}: {', '.join(regions)}" for name, regions in REGION_SETS.items())
        )
    if len(set(sets.values())) > 1:
        raise ValueError(
            "All Regions of a multi-Region strongly consistent global table must be in one Region set; "
            + ", ".join(f"{region} is in {name}" for region, name in sets.items())
        )


def check_consistency(value) -> str:
    if value not in (STRONG, EVENTUAL):
        raise ValueError(f"MultiRegionConsistency must be STRONG or EVENTUAL, not {value!r}")
    return value


# -- the metadata on moto's table -----------------------------------------------------------------------------


def is_strong(table) -> bool:
    return getattr(table, "mrkv_strong", None) is not None


def witnesses_of(table) -> list[str]:
    return list((getattr(table, "mrkv_strong", None) or {}).get("Witnesses", []))


def mark_strong(table, witnesses) -> None:
    table.mrkv_strong = {"Witnesses": list(witnesses)}


def strong_document(table) -> dict | None:
    """What the replicator carries to a new replica (``SetReplicas`` ``Strong``), or None for MREC."""
    return dict(table.mrkv_strong) if is_strong(table) else None


def set_from_document(table, document) -> None:
    if document:
        mark_strong(table, document.get("Witnesses", []))


def description(table, is_global: bool) -> dict:
    """What a global table's TableDescription adds about its consistency mode."""
    if is_strong(table):
        return {
            "MultiRegionConsistency": STRONG,
            "GlobalTableWitnesses": [
                {"RegionName": region, "WitnessStatus": "ACTIVE"} for region in witnesses_of(table)
            ],
        }
    return {"MultiRegionConsistency": EVENTUAL} if is_global else {}


# -- what an MRSC table refuses -------------------------------------------------------------------------------


def check_can_become_strong(table) -> None:
    """The table-side conditions of MultiRegionConsistency STRONG (the regions are checked by ``check_group``)."""
    if any(True for _ in table.all_items()):
        raise ValueError(
            "Multi-Region strong consistency can only be chosen for an empty table: "
            f"{table.name} holds items; create a new table"
        )
    if (getattr(table, "ttl", None) or {}).get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        raise ValueError("A multi-Region strongly consistent global table cannot have time to live enabled")
    if getattr(table, "indexes", None):
        raise ValueError("A multi-Region strongly consistent global table cannot have local secondary indexes")


def refusal_of_ttl(table) -> str | None:
    if is_strong(table):
        return "Time to live is not supported on multi-Region strongly consistent global tables"
    return None


def refusal_of_transaction(tables) -> str | None:
    strong = sorted(table.name for table in tables if is_strong(table))
    if strong:
        return (
            "Transactions are not supported on multi-Region strongly consistent global tables: "
            + ", ".join(strong)
        )
    return None

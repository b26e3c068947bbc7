"""A restarted region of an MRSC table stays out of the quorum until it has caught up (the ``region-restart`` fault
of a strong run, ``faults.inject_region_restart``).

Why: an MRSC write is acknowledged once two of the three regions hold it, and a strong read asks one other region,
so every read meets a copy of every acknowledged write. A region's process killed with ``kill -9`` comes back
empty (moto keeps nothing on disk), where an AWS region keeps its data through any crash. If the empty process
answered its peers at once, a write whose two copies were its old self and one other region would be down to one
copy, and a strong read in the third region could ask the empty one and return an older value: a loss AWS would
not have. So, emulating storage that survives the crash:

1. before the fence, the other regions forget the region's door (``POST /__admin/peers``): they neither ask it to
   accept a write nor ask it for a read, as if it were isolated;
2. it restarts with no door of its own: its writes and strong reads fail (InternalServerError) while it is empty;
3. once it holds, for every key, at least the version the other replicas held after it came back (the
   replicator's backfill and streams bring them), every region gets every door again.

Acknowledged writes while it is out have their two copies in the other two regions, so step 3's snapshot, taken
after the restart, covers every write acknowledged before it rejoins that it might be asked for.
"""

from __future__ import annotations

import time

from backend.local.chaos.clients import scan_versions
from backend.local.control.client import call_json
from backend.local.dynamodb.versions import from_text

CATCH_UP_TIMEOUT_S = 240.0


class CatchUpError(RuntimeError):
    pass


def _admins(cloud) -> dict[str, str]:
    admins = {region: info["admin"] for region, info in cloud.region_info.items()}
    if cloud.witness:
        admins[cloud.witness] = cloud.witness_info["admin"]
    return admins


def publish_doors(cloud, without: str | None = None) -> None:
    """Tells every region (and the witness) but ``without`` every door but ``without``'s."""
    admins = {region: admin for region, admin in _admins(cloud).items() if region != without}
    doors = {region: admin + "/__admin/dynamodb" for region, admin in admins.items()}
    for admin in admins.values():
        call_json("POST", admin + "/__admin/peers", {"doors": doors})


def leave_quorum(cloud, region: str) -> None:
    publish_doors(cloud, without=region)


def _versions(cloud, region: str) -> dict[str, tuple]:
    door = cloud.region_info[region]["admin"] + "/__admin/dynamodb"
    return {key: from_text(text) for key, text in scan_versions(door, region).items()}


def behind(held: dict[str, tuple], snapshot: dict[str, tuple]) -> list[str]:
    """The keys of ``snapshot`` that ``held`` holds at an older version, or not at all."""
    return sorted(key for key, version in snapshot.items() if key not in held or held[key] < version)


def rejoin_when_caught_up(cloud, region: str, timeout_s: float = CATCH_UP_TIMEOUT_S) -> float:
    """Waits until ``region`` holds every version the other replicas hold now, then gives every region every door
    again; the seconds it took. On timeout the region stays out of the quorum (safe) and ``CatchUpError``."""
    started = time.monotonic()
    snapshot: dict[str, tuple] = {}
    for other in cloud.region_info:
        if other != region:
            for key, version in _versions(cloud, other).items():
                snapshot[key] = max(version, snapshot.get(key, version))
    missing = list(snapshot)
    while time.monotonic() - started < timeout_s:
        try:
            missing = behind(_versions(cloud, region), snapshot)
        except Exception:  # noqa: BLE001 - the region still starting: look again
            pass
        else:
            if not missing:
                publish_doors(cloud)
                return time.monotonic() - started
        time.sleep(0.5)
    raise CatchUpError(
        f"{region} did not catch up within {timeout_s:.0f} s ({len(missing)} of {len(snapshot)} keys behind, "
        f"e.g. {missing[:3]}): left out of the quorum"
    )

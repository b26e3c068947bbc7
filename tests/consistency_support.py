"""What the consistency tests share: whether this local cloud can emulate MRSC (``LocalCloud(consistency=...)``),
as a skip mark, and a small, quick workload for both clouds."""

from __future__ import annotations

import inspect

import pytest


def local_cloud_has_mrsc() -> bool:
    from backend.local.cloud import LocalCloud

    return "consistency" in inspect.signature(LocalCloud).parameters


needs_mrsc = pytest.mark.skipif(
    not local_cloud_has_mrsc(), reason="this LocalCloud cannot emulate MRSC (no 'consistency' option yet)"
)

# Small sizes: each side's run takes a second or two with network none.
QUICK = {"writes": 6, "trials": 2, "isolation_rounds": 2}

# What the HTTP API promises on MRSC and main does not do yet (the MRSC core answers at the DynamoDB level only): a
# racing write answered 409 with Retry-After and not retried by the function's boto3, ``GET ?consistent=true`` as a
# strongly consistent read, 503 with Retry-After from the cut-off region. Strict: the day it holds, the XPASS says
# to remove this mark.
API_PENDING = pytest.mark.xfail(
    strict=True,
    reason="the HTTP API does not answer 409 on an MRSC write conflict (its boto3 retries "
    "ReplicatedWriteConflictException) nor read strongly on ?consistent=true yet",
)

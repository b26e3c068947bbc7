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

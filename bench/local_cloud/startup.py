"""Section 2, startup time: one region alone, and the default two-region cloud."""

from __future__ import annotations

import statistics

from backend.local.cloud import LocalCloud
from bench.local_cloud.load import EU, US


def bench_startup(repeat: int) -> dict:
    one, two = [], []
    for _ in range(repeat):
        with LocalCloud(regions=[US], network="none", replicate=False) as cloud:
            one.append(cloud.startup_s)
        with LocalCloud(regions=[US, EU], network="none") as cloud:
            two.append(cloud.startup_s)
    return {
        "one_region_s": round(statistics.median(one), 2),
        "two_region_cloud_s": round(statistics.median(two), 2),
        "runs": repeat,
    }

"""The probes against a real deployment. Opt-in: ``pytest -m aws tests/aws/test_probe_aws.py`` with

    MRKV_STACK=serverless-keyvalue-dev MRKV_REGIONS=us-west-2,eu-central-1 [AWS_PROFILE=...]

Reads the stack outputs in each region, then runs a small latency run, lag probes (with CloudWatch's
``ReplicationLatency`` beside them) and a conflict. Writes a handful of keys named ``probe-*``; nothing is deleted
that the probes did not write. Failover is not run here: on AWS the outage is the user's to cause
(``python -m dashboard.measure failover --observe``).
"""

import os
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.measure import stats
from dashboard.measure.probes.conflict import run_conflict
from dashboard.measure.probes.lag import run_lag
from dashboard.measure.probes.lag_math import lag_summary
from dashboard.measure.probes.lag_reference import reference_lag
from dashboard.measure.probes.latency import run_latency
from dashboard.measure.targets import check_reachable, load_cloudformation

pytestmark = pytest.mark.aws

STACK = os.environ.get("MRKV_STACK")
REGIONS = [r.strip() for r in os.environ.get("MRKV_REGIONS", "").split(",") if r.strip()]


@pytest.fixture(scope="module")
def targets():
    if not STACK or not REGIONS:
        pytest.skip("set MRKV_STACK and MRKV_REGIONS to run the probes against a real deployment")
    target_set = load_cloudformation(STACK, REGIONS)
    check_reachable(target_set)
    return target_set


def test_latency_against_the_deployment(targets):
    df = run_latency(targets, targets.names(), "read", count=20, concurrency=2)
    summary = stats.summarize(df, warm_only=True)
    assert (summary["errors"] == 0).all(), df.loc[~df["ok"], "error"].unique()
    assert df["server_app_ms"].notna().all()  # Server-Timing survives API Gateway
    for region in targets.regions:
        assert (df.loc[df["target"] == region, "served_region"] == region).all()


def test_lag_and_cloudwatch_reference(targets):
    if len(REGIONS) < 2:
        pytest.skip("replication needs two regions")
    started = datetime.now(UTC)
    df = run_lag(targets, REGIONS[0], REGIONS[1:], probes=5, timeout_s=30.0)
    assert (df["status"] == "seen").all(), df["error"].tolist()
    summary = lag_summary(df)
    assert (summary["p50"] < 30_000).all()
    # CloudWatch publishes a minute or two late: the call must work; its figures may still be empty.
    reference = reference_lag(
        targets, REGIONS[0], REGIONS[1:], started - timedelta(minutes=5), datetime.now(UTC)
    )
    assert reference is not None


def test_conflict_follows_last_writer_wins(targets):
    if len(REGIONS) < 2:
        pytest.skip("a conflict needs two regions")
    results, _ = run_conflict(targets, REGIONS, trials=3, timeout_s=30.0)
    assert results["converged"].all(), results["error"].tolist()
    assert results["follows_lww"].all()

"""MRSC's rules, pure (``backend/local/dynamodb/strong.py``): which region groups AWS allows, what DescribeTable adds.
AWS document: DynamoDB Developer Guide, "Multi-Region strong consistency" (docs/FIDELITY.md)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.local.cloud import check_consistency
from backend.local.dynamodb import strong


@pytest.mark.parametrize(
    ("replicas", "witnesses"),
    [
        (["us-east-1", "us-east-2", "us-west-2"], []),
        (["us-east-1", "us-east-2"], ["us-west-2"]),
        (["eu-west-1", "eu-west-3"], ["eu-central-1"]),
        (["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"], []),
    ],
)
def test_three_regions_of_one_set_are_allowed(replicas, witnesses):
    strong.check_group(replicas, witnesses)


@pytest.mark.parametrize(
    ("replicas", "witnesses", "says"),
    [
        (["us-east-1", "us-east-2"], [], "exactly three Regions"),
        (["us-east-1", "us-east-2", "us-west-2"], ["us-west-1"], "exactly three Regions"),
        (["us-east-1"], ["us-east-2", "us-west-2"], "at most one witness"),
        (["us-east-1", "us-east-2"], ["us-east-2"], "without a replica"),
        (["us-east-1", "us-east-2", "eu-west-1"], [], "one Region set"),
        (["us-east-1", "us-east-2", "us-west-1"], [], "not available in us-west-1"),
        (["us-east-1", "us-east-1", "us-east-2"], [], "exactly three Regions"),
    ],
)
def test_other_groups_are_refused_with_the_reason(replicas, witnesses, says):
    with pytest.raises(ValueError, match=says):
        strong.check_group(replicas, witnesses)


def test_the_cloud_checks_its_consistency_before_starting_anything():
    assert check_consistency(["us-east-1", "us-east-2"], "strong", "us-west-2") == ("strong", "us-west-2")
    assert check_consistency(["us-west-2", "eu-central-1"], "eventual", None) == ("eventual", None)
    with pytest.raises(ValueError, match="only for --consistency strong"):
        check_consistency(["us-west-2", "eu-central-1"], "eventual", "us-east-1")
    with pytest.raises(ValueError, match="'eventual' or 'strong'"):
        check_consistency(["us-west-2", "eu-central-1"], "STRONG", None)


def test_describe_table_says_the_mode_and_the_witness():
    table = SimpleNamespace()
    assert strong.description(table, is_global=False) == {}
    assert strong.description(table, is_global=True) == {"MultiRegionConsistency": "EVENTUAL"}
    strong.mark_strong(table, ["us-west-2"])
    assert strong.description(table, is_global=True) == {
        "MultiRegionConsistency": "STRONG",
        "GlobalTableWitnesses": [{"RegionName": "us-west-2", "WitnessStatus": "ACTIVE"}],
    }
    assert strong.refusal_of_ttl(table) and strong.refusal_of_transaction([SimpleNamespace(name="t", **vars(table))])

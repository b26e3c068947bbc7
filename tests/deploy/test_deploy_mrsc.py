"""`--param consistency=strong`: serverless.yml packages a multi-Region strongly consistent (MRSC) global table.

AWS (DynamoDB developer guide, "Multi-Region strong consistency"; CloudFormation AWS::DynamoDB::GlobalTable): an MRSC
table has exactly three regions, three replicas or two replicas and a witness, all from one region set (US, EU or
AP), and no TTL, local secondary index or transaction. deploy/resources.js (globalTableProperties) decides the
table's mode-dependent properties and refuses what MRSC does not allow, at package time.

Two osls packages (three US replicas; two replicas and a witness) are linted with cfn-lint and the deploy policy and
read back; every refused combination is tried on the pure function through node (milliseconds each), and one of
them end to end through osls, to show the refusal stops packaging with one clear line.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess

import pytest
from test_deploy_package import (  # noqa: F401 - fixtures are found by name
    ROOT,
    package,
    run_osls,
    service_dir,
)
from test_deploy_policy import cfn_lint

pytestmark = pytest.mark.deploy

RESOURCES_JS = ROOT / "deploy" / "resources.js"
US = ["us-east-1", "us-east-2", "us-west-2"]
# The --param values of the two packages; the first keeps the default primaryRegion, us-west-2.
THREE_REPLICAS = ("consistency=strong", "regions=us-east-1,us-east-2,us-west-2")
WITNESSED = (
    "consistency=strong",
    "regions=us-east-1,us-east-2",
    "witness=us-west-2",
    "primaryRegion=us-east-1",
)
PREFIX = "serverless.yml (deploy/resources.js): "


@pytest.fixture(scope="module")
def three_replicas(package):  # noqa: F811
    return package("us-west-2", THREE_REPLICAS)


@pytest.fixture(scope="module")
def witnessed(package):  # noqa: F811
    return package("us-east-1", WITNESSED)


def table_of(packaged) -> dict:
    return packaged.resources["KeyValuesGlobalTable"]


def decide(**settings) -> subprocess.CompletedProcess:
    """globalTableProperties(settings) of deploy/resources.js, run by node: its JSON on stdout, or its error."""
    node = shutil.which("node")
    assert node, "node runs osls, so it is on PATH wherever these tests run"
    settings = {"primaryRegion": "us-east-1", "deployingRegion": "us-east-1", "witness": "", **settings}
    script = (
        "try { console.log(JSON.stringify(require(process.argv[1]).globalTableProperties(JSON.parse(process.argv[2])))) }"
        " catch (error) { console.error(error.message); process.exit(1) }"
    )
    return subprocess.run(
        [node, "-e", script, str(RESOURCES_JS), json.dumps(settings)],
        capture_output=True,
        text=True,
        timeout=30,
    )


# ------------------------------------------------------------------------------------------ packaged


def test_three_replicas_make_a_strong_table_without_ttl_or_stream(three_replicas):
    table = table_of(three_replicas)
    # us-west-2 is the primary: its stack creates the table.
    assert three_replicas.created("KeyValuesGlobalTable")
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert properties["MultiRegionConsistency"] == "STRONG"
    assert [replica["Region"] for replica in properties["Replicas"]] == US
    for replica in properties["Replicas"]:
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert "TimeToLiveSpecification" not in replica
    # MRSC allows no TTL and no local secondary index; it replicates without the stream, which CloudFormation
    # requires only of an eventually consistent table with several replicas.
    absent = {
        "TimeToLiveSpecification",
        "LocalSecondaryIndexes",
        "StreamSpecification",
        "GlobalTableWitnesses",
    }
    assert not absent & set(properties), absent & set(properties)
    # The rest of the table is the eventual one's: same name, key and billing.
    assert properties["TableName"] == "keyvalues"
    assert properties["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"


def test_two_replicas_and_a_witness(witnessed):
    properties = table_of(witnessed)["Properties"]
    assert witnessed.created("KeyValuesGlobalTable")  # deployed in its primary, us-east-1
    assert properties["MultiRegionConsistency"] == "STRONG"
    assert [replica["Region"] for replica in properties["Replicas"]] == ["us-east-1", "us-east-2"]
    assert properties["GlobalTableWitnesses"] == [{"Region": "us-west-2"}]
    assert "TimeToLiveSpecification" not in properties and "StreamSpecification" not in properties


def test_strong_templates_pass_cfn_lint_and_the_deploy_policy(three_replicas, witnessed):
    # cfn-lint's own rules (the GlobalTable schema knows MultiRegionConsistency and GlobalTableWitnesses) and
    # this project's (deploy/policy), as `make policy` runs them.
    findings = cfn_lint(three_replicas.template_path, witnessed.template_path)
    assert findings == [], json.dumps(findings, indent=2)


@pytest.mark.parametrize(
    "unsupported, value",
    [
        ("TimeToLiveSpecification", {"AttributeName": "expiresAt", "Enabled": True}),
        (
            "LocalSecondaryIndexes",
            [
                {
                    "IndexName": "byKey",
                    "KeySchema": [{"AttributeName": "key", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        ),
    ],
)
def test_the_policy_refuses_ttl_or_a_local_index_on_a_strong_table(
    three_replicas, tmp_path, unsupported, value
):
    """What serverless.yml shares between the modes is not seen by deploy/resources.js: E9106 catches a TTL or a
    local secondary index added there, before CloudFormation fails to create the MRSC table."""
    template = copy.deepcopy(three_replicas.template)
    template["Resources"]["KeyValuesGlobalTable"]["Properties"][unsupported] = value
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(template))
    ours = [f for f in cfn_lint(broken) if f["Rule"]["Id"].startswith("E91")]
    assert [f["Rule"]["Id"] for f in ours] == ["E9106"], json.dumps(ours, indent=2)
    assert f"an MRSC table cannot have {unsupported}" in ours[0]["Message"]


def test_a_refused_region_set_stops_packaging_with_one_line(service_dir):  # noqa: F811
    result = run_osls(
        service_dir, "us-east-1", ["consistency=strong", "regions=us-east-1,eu-west-1,us-west-2"]
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        "--param consistency=strong needs its three regions in one MRSC region set, not several: "
        "us-east-1 is US, eu-west-1 is EU, us-west-2 is US" in output
    )
    assert "    at " not in output  # no JavaScript stack trace for a configuration mistake


# ------------------------------------------------------------------------- the deciding function alone


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            {"regions": "us-east-1,us-east-2", "consistency": "strong"},
            "--param consistency=strong needs exactly three regions: three replicas in --param regions, or two and "
            "--param witness=<region>; got 2 replicas (us-east-1,us-east-2) and no witness",
        ),
        (
            {"regions": "eu-west-1,eu-west-2,eu-west-3,eu-central-1", "consistency": "strong",
             "primaryRegion": "eu-west-1", "deployingRegion": "eu-west-1"},
            "got 4 replicas (eu-west-1,eu-west-2,eu-west-3,eu-central-1) and no witness",
        ),
        (
            {"regions": "us-east-1,us-east-2,us-west-2", "consistency": "strong", "witness": "us-west-1"},
            "got 3 replicas (us-east-1,us-east-2,us-west-2) and witness us-west-1",
        ),
        (
            {"regions": "us-east-1", "consistency": "strong", "witness": "us-west-2"},
            "got 1 replicas (us-east-1) and witness us-west-2",
        ),
        (
            {"regions": "us-east-1,us-east-2,eu-west-1", "consistency": "strong"},
            "needs its three regions in one MRSC region set, not several: us-east-1 is US, us-east-2 is US, "
            "eu-west-1 is EU",
        ),
        (
            {"regions": "us-east-1,us-east-2", "consistency": "strong", "witness": "ap-northeast-1"},
            "us-east-1 is US, us-east-2 is US, ap-northeast-1 is AP",
        ),
        (
            {"regions": "us-east-1,us-east-2,us-west-1", "consistency": "strong"},
            "--param consistency=strong is not offered in us-west-1; MRSC region sets: US (us-east-1, us-east-2, "
            "us-west-2); EU (eu-west-1, eu-west-2, eu-west-3, eu-central-1); AP (ap-northeast-1, ap-northeast-2, "
            "ap-northeast-3)",
        ),
        (
            {"regions": "us-east-1,us-east-2", "consistency": "strong", "witness": "us-east-2"},
            "--param witness=us-east-2 is also in --param regions: the witness must be a region without a replica",
        ),
        (
            {"regions": "us-east-1,us-east-2", "consistency": "strong", "witness": "us-west-2",
             "deployingRegion": "us-west-2"},
            "the deploying region us-west-2 is the witness, which holds no readable replica",
        ),
        (
            {"regions": "us-east-1,us-east-2", "consistency": "strong", "witness": "us-wets-2"},
            "--param witness=us-wets-2 is not an AWS region",
        ),
        (
            {"regions": "us-east-1,us-east-2", "consistency": "eventual", "witness": "us-west-2"},
            "--param witness is only for --param consistency=strong",
        ),
        ({"regions": "us-east-1,us-east-2", "consistency": "STRONG"}, "--param consistency=STRONG must be eventual or strong"),
        ({"regions": "us-east-1,us-east-2", "consistency": "linearizable"}, "--param consistency=linearizable must be"),
    ],
    ids=[
        "two regions, no witness", "four regions", "three regions and a witness", "one region and a witness",
        "regions of two sets", "witness of another set", "region in no set", "witness equal to a replica",
        "API in the witness region", "unknown witness region", "witness of an eventual table",
        "upper-case mode", "unknown mode",
    ],
)  # fmt: skip
def test_each_refused_combination_is_named(settings, message):
    result = decide(**settings)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith(PREFIX) and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "settings, replicas, witness",
    [
        ({"regions": "eu-west-1,eu-west-3,eu-central-1"}, ["eu-west-1", "eu-west-3", "eu-central-1"], None),
        ({"regions": "eu-west-2,eu-central-1", "witness": "eu-west-1"}, ["eu-west-2", "eu-central-1"], "eu-west-1"),
        ({"regions": "ap-northeast-3,ap-northeast-1", "witness": "ap-northeast-2"}, ["ap-northeast-3", "ap-northeast-1"],
         "ap-northeast-2"),
    ],
)  # fmt: skip
def test_every_region_set_is_accepted(settings, replicas, witness):
    first = replicas[0]
    result = decide(consistency="strong", primaryRegion=first, deployingRegion=first, **settings)
    assert result.returncode == 0, result.stderr
    properties = json.loads(result.stdout)
    assert properties["MultiRegionConsistency"] == "STRONG"
    assert [replica["Region"] for replica in properties["Replicas"]] == replicas
    assert properties.get("GlobalTableWitnesses") == ([{"Region": witness}] if witness else None)
    assert "StreamSpecification" not in properties


def test_eventual_keeps_the_stream_and_names_no_mode():
    """The default template stays as it was before MRSC: no MultiRegionConsistency, the stream MREC requires."""
    result = decide(regions="us-west-2,eu-central-1", consistency="eventual", primaryRegion="us-west-2",
                    deployingRegion="eu-central-1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        "Replicas": [
            {"Region": region, "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}
            for region in ("us-west-2", "eu-central-1")
        ],
    }

"""The engine's AWS path against moto (mock_aws): CloudFormation outputs -> targets, CloudWatch ReplicationLatency."""

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from dashboard.measure import aws
from dashboard.measure.targets import GLOBAL, TargetError, load_cloudformation, load_targets

STACK = "serverless-keyvalue-dev"
REGIONS = ["us-west-2", "eu-central-1"]


def _template(region: str, with_domain: bool) -> str:
    # The outputs osls gives the stack (ServiceEndpoint) and deploy/resources.js adds with a custom domain.
    outputs = {
        "ServiceEndpoint": {"Value": f"https://abc-{region}.execute-api.{region}.amazonaws.com/dev"},
        "KeyTableName": {"Value": "keyvalues"},
    }
    if with_domain:
        outputs["CustomDomainUrl"] = {"Value": "https://keyvalue.example.com"}
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
            "Outputs": outputs,
        }
    )


@pytest.fixture
def aws_account(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def _deploy(with_domain=True, regions=REGIONS):
    for region in regions:
        boto3.client("cloudformation", region_name=region).create_stack(
            StackName=STACK, TemplateBody=_template(region, with_domain)
        )


def test_cloudformation_outputs_become_a_target_set(aws_account):
    _deploy()
    targets = load_cloudformation(STACK, "us-west-2,eu-central-1")
    assert targets.regions == {
        "us-west-2": "https://abc-us-west-2.execute-api.us-west-2.amazonaws.com/dev",
        "eu-central-1": "https://abc-eu-central-1.execute-api.eu-central-1.amazonaws.com/dev",
    }
    assert targets.global_url == "https://keyvalue.example.com"
    assert targets.names() == [*REGIONS, GLOBAL] and not targets.is_local
    assert STACK in targets.source


def test_stack_without_custom_domain_has_no_global_target(aws_account):
    _deploy(with_domain=False)
    targets = load_targets(stack=STACK, regions=REGIONS)
    assert targets.global_url is None and targets.names() == REGIONS


def test_missing_stack_in_one_region_names_stack_and_region(aws_account):
    _deploy(regions=["us-west-2"])
    with pytest.raises(TargetError, match=f"stack {STACK} in eu-central-1 does not exist"):
        load_cloudformation(STACK, REGIONS)


def test_stack_without_service_endpoint_is_a_clear_error(aws_account):
    boto3.client("cloudformation", region_name="us-west-2").create_stack(
        StackName="other",
        TemplateBody=json.dumps(
            {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"X": {"Value": "y"}}}
        ),
    )
    with pytest.raises(TargetError, match="has no ServiceEndpoint output"):
        load_cloudformation("other", ["us-west-2"])


def test_replication_latency_read_from_the_source_region_per_destination(aws_account):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    cloudwatch = boto3.client("cloudwatch", region_name="us-west-2")
    for minutes_ago, value in ((3, 700.0), (3, 900.0), (2, 1200.0)):
        cloudwatch.put_metric_data(
            Namespace="AWS/DynamoDB",
            MetricData=[
                {
                    "MetricName": "ReplicationLatency",
                    "Dimensions": [
                        {"Name": "TableName", "Value": "keyvalues"},
                        {"Name": "ReceivingRegion", "Value": "eu-central-1"},
                    ],
                    "Timestamp": now - timedelta(minutes=minutes_ago),
                    "Value": value,
                    "Unit": "Milliseconds",
                }
            ],
        )
    df = aws.replication_latency(
        "keyvalues", "us-west-2", "eu-central-1", now - timedelta(minutes=10), now + timedelta(minutes=1)
    )
    assert list(df["average_ms"]) == [800.0, 1200.0]
    assert list(df["maximum_ms"]) == [900.0, 1200.0]
    assert list(df["samples"]) == [2.0, 1.0]
    assert set(df["destination"]) == {"eu-central-1"}
    other = aws.replication_latency_pairs(
        "keyvalues", "us-west-2", ["ap-south-1"], now - timedelta(minutes=10), now
    )
    assert len(other) == 0  # no data for that pair: an empty frame, not an error


def test_no_credentials_is_a_clear_error(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Should anything get past signing, it would meet a closed port on loopback, never the Internet.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(TargetError, match="no AWS credentials"):
        aws.stack_outputs(STACK, "us-west-2")

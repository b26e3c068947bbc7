"""`mrkv-local env REGION` against a running two-region cloud: boto3 with nothing but those variables writes in one
region, reads the replica in the other, and reads the region's stream on the streams endpoint."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backend.local.cloud import LocalCloud

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
WEST, CENTRAL = "us-west-2", "eu-central-1"


@pytest.fixture(scope="module")
def endpoints_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("env") / "endpoints.json"
    with LocalCloud(regions=[WEST, CENTRAL], network="none", endpoints_file=path):
        yield path


def exported(endpoints_file: Path, region: str) -> dict:
    """The environment a user gets from ``eval "$(mrkv-local env REGION)"``, evaluated by a real shell."""
    command = f'eval "$({sys.executable} -m backend.local env {region} --endpoints-file {endpoints_file})" && env'
    clean = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    done = subprocess.run(
        ["sh", "-c", command], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr == ""  # the cloud answers: no stale-file warning
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if line.startswith("AWS_"))


def run_boto3(environment: dict, script: str) -> str:
    """``script`` in a fresh interpreter whose only AWS settings are ``environment`` (no endpoint_url in code)."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        env={**clean, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_boto3_writes_in_one_region_and_reads_the_replica_in_another(endpoints_file):
    west, central = exported(endpoints_file, WEST), exported(endpoints_file, CENTRAL)
    assert west["AWS_REGION"] == WEST and central["AWS_REGION"] == CENTRAL
    assert west["AWS_ENDPOINT_URL_DYNAMODB"] != central["AWS_ENDPOINT_URL_DYNAMODB"]
    run_boto3(
        west,
        """
        import boto3
        boto3.client("dynamodb").put_item(
            TableName="keyvalues",
            Item={"key": {"S": "from-env"}, "value": {"S": "hello"}, "region": {"S": "us-west-2"},
                  "writtenAt": {"N": "1"}},
        )
        """,
    )
    replica = run_boto3(
        central,
        """
        import time, boto3
        client = boto3.client("dynamodb")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            item = client.get_item(TableName="keyvalues", Key={"key": {"S": "from-env"}}).get("Item")
            if item:
                print(item["value"]["S"])
                break
            time.sleep(0.1)
        """,
    )
    assert replica == "hello"


def test_the_streams_endpoint_serves_the_regions_stream(endpoints_file):
    stream_arns = run_boto3(
        exported(endpoints_file, WEST),
        """
        import boto3
        streams = boto3.client("dynamodbstreams").list_streams(TableName="keyvalues")["Streams"]
        print(" ".join(stream["StreamArn"] for stream in streams))
        """,
    )
    assert f":{WEST}:" in stream_arns and "table/keyvalues/stream/" in stream_arns

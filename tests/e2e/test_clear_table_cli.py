"""`python -m backend.tools.clear_table` as an operator runs it: a real process against moto's server on 127.0.0.1."""

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto_support import moto_server

from backend.store import table_definition

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-west-2"


@pytest.fixture(scope="module")
def dynamodb_url():
    with moto_server() as url:
        yield url


@pytest.fixture
def table(dynamodb_url):
    """A fresh keyvalues table with 260 items (two scan pages at --page-size 200)."""
    client = boto3.session.Session().client(  # its own session: nothing cached in boto3's default one
        "dynamodb",
        region_name=REGION,
        endpoint_url=dynamodb_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_table(**table_definition("keyvalues"))
    for start in range(0, 260, 25):
        client.batch_write_item(
            RequestItems={
                "keyvalues": [
                    {"PutRequest": {"Item": {"key": {"S": f"k{n}"}, "value": {"S": "v"}}}}
                    for n in range(start, min(start + 25, 260))
                ]
            }
        )
    yield client
    client.delete_table(TableName="keyvalues")


def run_cli(dynamodb_url, *args, stdin=""):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BOTO"))} | {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "backend.tools.clear_table",
            "--region",
            REGION,
            "--endpoint-url",
            dynamodb_url,
        ]
        + list(args),
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


def item_count(client):
    return client.scan(TableName="keyvalues", Select="COUNT")["Count"]


def test_declined_then_confirmed_with_yes(dynamodb_url, table):
    declined = run_cli(dynamodb_url, "--table", "keyvalues", stdin="n\n")
    assert declined.returncode == 3, declined.stderr
    assert "about 260 items" in declined.stderr
    assert item_count(table) == 260

    cleared = run_cli(dynamodb_url, "--table", "keyvalues", "--yes", "--page-size", "200")
    assert cleared.returncode == 0, cleared.stderr
    assert "deleted 260 items (2 pages scanned)" in cleared.stderr
    assert cleared.stdout.startswith(f"Deleted 260 items from keyvalues in {REGION} at {dynamodb_url}")
    assert item_count(table) == 0


def test_missing_table_exits_1_without_traceback(dynamodb_url):
    result = run_cli(dynamodb_url, "--table", "absent", "--yes")
    assert result.returncode == 1
    assert result.stderr == f"error: table 'absent' does not exist in {REGION} at {dynamodb_url}\n"


def test_help_names_the_exit_codes(dynamodb_url):
    result = run_cli(dynamodb_url, "--help")
    assert result.returncode == 0
    words = " ".join(result.stdout.split())  # argparse wraps to the terminal width
    assert "Exit codes: 0 cleared, 1 DynamoDB error, 2 bad arguments, 3 declined, 130 interrupted." in words

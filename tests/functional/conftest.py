"""Fixtures of the functional tier (in-process)."""

import boto3
import pytest
from moto import mock_aws

from backend.handlers import _runtime
from backend.store import table_definition


@pytest.fixture
def region(monkeypatch):
    """us-west-2 with the keyvalues table, configured as serverless.yml configures the functions."""
    for name, value in {
        "KEY_TABLE": "keyvalues",
        "AWS_REGION": "us-west-2",
        "AWS_DEFAULT_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CORS_ALLOW_ORIGIN", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        boto3.client("dynamodb", region_name="us-west-2").create_table(**table_definition("keyvalues"))
        _runtime.reset()
        yield "us-west-2"
    _runtime.reset()

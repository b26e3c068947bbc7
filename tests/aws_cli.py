"""The AWS CLI of this venv (requirements-dev.txt pins awscli), run as a user would against a local endpoint.

The executable next to ``sys.executable``, never whichever ``aws`` PATH finds first: a developer's own CLI (v2, or
another v1) would make the tests depend on the machine. Missing, the tests fail with how to install it, not skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

AWS = Path(sys.executable).parent / "aws"


def aws(arguments: list[str], region: str, endpoint_url: str, tmp_path: Path, timeout_s: float = 60):
    """``aws ARGUMENTS --region R --endpoint-url URL --output json`` with fake credentials and no config file."""
    if not AWS.exists():
        pytest.fail(f"{AWS} is missing: install the dev requirements (pip install -r requirements-dev.txt)")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_MAX_ATTEMPTS": "1",  # an error shows at once instead of after the CLI's retries
    }
    command = [str(AWS), *arguments, "--region", region, "--endpoint-url", endpoint_url, "--output", "json"]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=environment)


def error_code(result: subprocess.CompletedProcess) -> str:
    """The error code the CLI printed, e.g. ``TransactionCanceledException`` from "An error occurred (X) when..."."""
    marker = "An error occurred ("
    assert marker in result.stderr, result.stderr
    return result.stderr.split(marker, 1)[1].split(")", 1)[0]


def output(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}

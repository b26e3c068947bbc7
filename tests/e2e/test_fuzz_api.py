"""schemathesis against docs/openapi.yaml on a local region: no 5xx, and every answer conforms to the document.

Driven from schemathesis's Python API (operation → Hypothesis strategy of cases) inside plain pytest tests rather
than through its pytest plugin's ``parametrize``, so that a region started by a fixture is the target and the
budget per operation is explicit. Valid (positive) and invalid (negative) requests both; each response goes
through schemathesis's checks and through ``tests/openapi_contract.assert_conforms`` (the lead's checker).

Budget: ``FUZZ_EXAMPLES`` examples per operation and mode (default 40; ~25 s in all on a loaded 2-core machine).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import requests

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in requirements-dev.txt")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from openapi_contract import assert_conforms  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.local.cloud import LocalCloud  # noqa: E402

pytestmark = pytest.mark.e2e

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
REGION = "us-west-2"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def no_server_error(response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"


@pytest.fixture(scope="module")
def region_url(tmp_path_factory):
    cloud = LocalCloud(regions=[REGION], network="none", state_dir=tmp_path_factory.mktemp("fuzz-cloud"))
    cloud.start()
    try:
        yield cloud.endpoints["regions"][REGION]
        logs = "\n".join(p.read_text(errors="replace") for p in (cloud.state_dir / "logs").glob("*.log"))
        assert "Traceback" not in logs, logs[-3000:]
    finally:
        cloud.stop()


@pytest.fixture(scope="module")
def schema():
    return schemathesis.openapi.from_path(str(OPENAPI))


def operations(schema) -> list:
    found = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in found} == {
        "GET /_health",
        "GET /{key}",
        "POST /{key}",
        "DELETE /{key}",
    }
    return found


def fuzz(schema, base_url: str, mode: GenerationMode, checks: list) -> dict:
    """Runs every operation's cases in ``mode``; returns how many requests got each status, per operation."""
    seen: dict[str, dict[int, int]] = {}
    with requests.Session() as session:
        for operation in operations(schema):
            if mode is GenerationMode.NEGATIVE and operation.method.upper() != "POST":
                # Only POST has a body. A path parameter is text in a URL whatever its schema: schemathesis
                # filters out every invalid one it draws (the empty key), so there is nothing to send.
                continue
            label = f"{operation.method.upper()} {operation.path}"
            seen[label] = {}
            fuzz_operation(operation, mode, checks, session, base_url, seen[label])()
    return seen


def fuzz_operation(operation, mode: GenerationMode, checks: list, session, base_url: str, counts: dict):
    """A Hypothesis test over one operation's cases; ``counts`` collects the statuses it got."""
    writes = mode is GenerationMode.POSITIVE and operation.method.upper() == "POST"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases every run: a failure reproduces
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(base_url=base_url, session=session, timeout=30)
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
        no_server_error(response)
        case.validate_response(response, checks=checks)
        headers = {name: ", ".join(values) for name, values in response.headers.items()}
        assert_conforms(operation.path, operation.method, response.status_code, headers, response.text)
        if writes and response.status_code == 200:
            read_back(session, base_url, case, response.json())

    return run


def read_back(session, base_url: str, case, written: dict) -> None:
    """Whatever key and value the fuzzer wrote is read back unchanged, in a documented shape."""
    key = unquote(case.path_parameters["key"])  # schemathesis keeps path parameters percent-encoded
    answer = session.get(f"{base_url}/{quote(key, safe='')}", timeout=30)
    assert answer.status_code == 200, (key, answer.text[:300])
    assert_conforms("/{key}", "GET", 200, answer.headers, answer.text)
    read = answer.json()
    assert (read["key"], read["value"], read["writtenAt"]) == (key, case.body["value"], written["writtenAt"])
    assert written["key"] == key and written["value"] == case.body["value"]


def test_valid_requests_get_documented_answers(schema, region_url):
    seen = fuzz(schema, region_url, GenerationMode.POSITIVE, CHECKS)
    # The fuzzer really wrote (and read back) keys, not only errors.
    assert seen["POST /{key}"].get(200, 0) >= EXAMPLES // 2, seen
    assert seen["GET /_health"] == {200: seen["GET /_health"][200]}


def test_invalid_requests_are_rejected_with_documented_errors(schema, region_url):
    seen = fuzz(schema, region_url, GenerationMode.NEGATIVE, [*CHECKS, negative_data_rejection])
    assert seen["POST /{key}"].get(400, 0) >= EXAMPLES // 2, seen


def test_the_schemathesis_cli_with_its_default_checks_and_phases_passes(region_url):
    """``schemathesis run docs/openapi.yaml`` as a user would run it: examples, coverage (undeclared methods,
    boundary keys) and fuzzing, every default check. A fixed seed makes a failure reproducible."""
    cli = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [str(cli), "run", str(OPENAPI), "--url", region_url, "--seed", "20261201", "--no-color"],
        capture_output=True, text=True, timeout=300, cwd=OPENAPI.parent.parent,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout and "Coverage" in result.stdout

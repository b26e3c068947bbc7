"""`mrkv-local env REGION`: the export lines for boto3 and the AWS CLI, and the endpoints file's streams endpoint."""

import shlex
import socket

import pytest

from backend.local import cli, shell_env
from backend.local.contracts import Endpoints

WEST, CENTRAL = "us-west-2", "eu-central-1"
FILE = {
    "regions": {WEST: "http://127.0.0.1:4001/dev", CENTRAL: "http://127.0.0.1:4002/dev"},
    "global": "http://127.0.0.1:4000",
    "dynamodb": {WEST: "http://127.0.0.1:5001", CENTRAL: "http://127.0.0.1:5002"},
    "streams": {WEST: "http://127.0.0.1:5001", CENTRAL: "http://127.0.0.1:5002"},
    "control": "http://127.0.0.1:4009",
    "replicator": "http://127.0.0.1:4010",
    "consistency": "eventual",
    "witness": None,
}


def test_the_endpoints_file_names_each_regions_streams_endpoint():
    endpoints = Endpoints.from_json(FILE)
    assert endpoints.streams == FILE["streams"]
    assert endpoints.to_json() == FILE


def test_an_endpoints_file_from_before_mrsc_is_an_eventual_cloud():
    older = {name: value for name, value in FILE.items() if name not in ("consistency", "witness")}
    endpoints = Endpoints.from_json(older)
    assert (endpoints.consistency, endpoints.witness) == ("eventual", None)


def test_an_endpoints_file_without_streams_reaches_them_on_the_dynamodb_endpoint():
    older = {name: value for name, value in FILE.items() if name != "streams"}
    assert Endpoints.from_json(older).streams == FILE["dynamodb"]


def test_variables_point_the_sdks_at_one_region():
    assert shell_env.variables(Endpoints.from_json(FILE), CENTRAL) == {
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:5002",
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://127.0.0.1:5002",
        "AWS_REGION": CENTRAL,
        "AWS_DEFAULT_REGION": CENTRAL,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }


def test_an_unknown_region_names_the_ones_the_cloud_has():
    with pytest.raises(shell_env.UnknownRegion, match="no region 'ap-south-1' .*eu-central-1, us-west-2"):
        shell_env.variables(Endpoints.from_json(FILE), "ap-south-1")


def test_export_lines_are_quoted_for_eval():
    lines = shell_env.export_lines({"A": "plain", "B": "it's; rm -rf /"}).splitlines()
    assert lines[0] == "export A=plain"
    assert shlex.split(lines[1]) == ["export", "B=it's; rm -rf /"]


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_env_command_prints_exports_and_warns_when_nothing_answers(tmp_path, capsys):
    path = tmp_path / "endpoints.json"
    stale = f"http://127.0.0.1:{closed_port()}"
    Endpoints.from_json({**FILE, "dynamodb": {WEST: stale}, "streams": {WEST: stale}}).write(path)
    assert cli.main(["env", WEST, "--endpoints-file", str(path)]) == 0
    captured = capsys.readouterr()
    assert f"export AWS_ENDPOINT_URL_DYNAMODB={stale}" in captured.out.splitlines()
    assert "export AWS_REGION=us-west-2" in captured.out.splitlines()
    assert f"nothing answers at {stale}" in captured.err


def test_env_command_errors(tmp_path, capsys):
    path = tmp_path / "endpoints.json"
    assert cli.main(["env", WEST, "--endpoints-file", str(path)]) == 1
    error = capsys.readouterr().err
    assert "cannot be read" in error and "mrkv-local up" in error
    Endpoints.from_json(FILE).write(path)
    assert cli.main(["env", "mars-north-1", "--endpoints-file", str(path)]) == 2
    assert "no region 'mars-north-1'" in capsys.readouterr().err

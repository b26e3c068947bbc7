"""Target sources: the endpoints file, a user's targets file (JSON or TOML), and clear errors for bad ones."""

import json

import pytest

from dashboard.measure.targets import (
    GLOBAL,
    TargetError,
    TargetSet,
    load_endpoints_file,
    load_targets,
    load_targets_file,
)
from dashboard.measure.timed_client import key_path, parse_server_timing

ENDPOINTS = {
    "regions": {"us-west-2": "http://127.0.0.1:8001/dev/", "eu-central-1": "http://127.0.0.1:8002/dev"},
    "global": "http://127.0.0.1:8000",
    "dynamodb": {"us-west-2": "http://127.0.0.1:9001"},
    "control": "http://127.0.0.1:8999",
}


def test_endpoints_file_gives_regions_global_and_control(tmp_path):
    path = tmp_path / "endpoints.json"
    path.write_text(json.dumps(ENDPOINTS))
    targets = load_endpoints_file(path)
    assert targets.names() == ["us-west-2", "eu-central-1", GLOBAL]
    assert targets.url("us-west-2") == "http://127.0.0.1:8001/dev"  # trailing slash dropped
    assert targets.url(GLOBAL) == "http://127.0.0.1:8000"
    assert targets.is_local and targets.control_url == "http://127.0.0.1:8999"
    assert str(path) in targets.source


def test_toml_targets_file(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(
        'global = "https://keyvalue.example.com"\n[regions]\n'
        'us-west-2 = "https://abc.execute-api.us-west-2.amazonaws.com/dev"\n'
    )
    targets = load_targets_file(path)
    assert targets.regions == {"us-west-2": "https://abc.execute-api.us-west-2.amazonaws.com/dev"}
    assert targets.global_url == "https://keyvalue.example.com" and not targets.is_local


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("{not json", "t.json", "is not valid JSON"),
        ("regions = [", "t.toml", "is not valid TOML"),
        ("[]", "t.json", "expected an object"),
        ('{"regions": {}}', "t.json", "'regions' must be a non-empty object"),
        (
            '{"regions": {"us-west-2": "ftp://x"}}',
            "t.json",
            "regions.us-west-2: 'ftp://x' is not an http(s) URL",
        ),
        ('{"regions": {"us-west-2": 5}}', "t.json", "regions.us-west-2: expected a URL string"),
        ('{"regions": {"a": "http://h:99999"}}', "t.json", "invalid port"),
        (
            '{"regions": {"a": "http://h"}, "global": "nope"}',
            "t.json",
            "global: 'nope' is not an http(s) URL",
        ),
    ],
)
def test_malformed_targets_files_name_the_file_and_field(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(TargetError) as error:
        load_targets_file(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_missing_file_and_directory_are_clear(tmp_path):
    with pytest.raises(TargetError, match="does not exist"):
        load_endpoints_file(tmp_path / "nope.json")
    with pytest.raises(TargetError, match="is a directory"):
        load_targets_file(tmp_path)


def test_unknown_target_lists_the_known_ones():
    targets = TargetSet({"us-west-2": "http://h/dev"}, source="test")
    with pytest.raises(TargetError, match=r"unknown target 'eu-west-1' in test \(known: us-west-2\)"):
        targets.url("eu-west-1")
    with pytest.raises(TargetError, match="has no global URL"):
        targets.url(GLOBAL)


def test_load_targets_prefers_the_explicit_source(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"regions": {"x": "http://h"}}))
    assert load_targets(endpoints_file=tmp_path / "missing.json", targets_file=path).regions == {
        "x": "http://h"
    }
    with pytest.raises(TargetError, match="needs a stack name and at least one region"):
        load_targets(stack="s", regions="")


def test_server_timing_header_parsing():
    assert parse_server_timing("db;dur=3.1, app;dur=4.0") == {"db": 3.1, "app": 4.0}
    assert parse_server_timing('cache;desc="x";dur=2, miss, app;dur="7.5"') == {"cache": 2.0, "app": 7.5}
    assert parse_server_timing("app;dur=abc, db;dur=nan") == {}
    assert parse_server_timing(None) == {}


def test_keys_are_one_percent_encoded_path_segment():
    assert key_path("testkey") == "/testkey"
    assert key_path("a/b c") == "/a%2Fb%20c"
    assert key_path("ключ") == "/%D0%BA%D0%BB%D1%8E%D1%87"

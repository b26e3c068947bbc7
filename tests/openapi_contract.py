"""Checks a real response against docs/openapi.yaml: status documented, JSON body valid, required headers present."""

import json
import re
from functools import cache
from pathlib import Path

import jsonschema
import yaml

OPENAPI = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"


@cache
def document() -> dict:
    return yaml.safe_load(OPENAPI.read_text())


def _follow(node: dict) -> dict:
    """Follows local ``$ref``s (``#/a/b``) until a concrete node."""
    while isinstance(node, dict) and "$ref" in node:
        target = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def assert_conforms(
    path_template: str, method: str, status: int, headers: dict, body: str, query: dict | None = None
) -> None:
    operation = document()["paths"][path_template][method.lower()]
    _assert_query_documented(path_template, method, operation, query or {}, status)
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {path_template} answered {status}, which the document does not list"
    response = _follow(responses[str(status)])
    lower_headers = {name.lower(): value for name, value in headers.items()}
    for name, spec in response.get("headers", {}).items():
        spec = _follow(spec)
        if spec.get("required"):
            assert name.lower() in lower_headers, f"{method} {path_template} {status}: header {name} missing"
        pattern = spec.get("schema", {}).get("pattern")
        if pattern and name.lower() in lower_headers:
            assert re.match(pattern, lower_headers[name.lower()]), f"header {name}: {lower_headers[name.lower()]!r}"
    schema = response["content"]["application/json"]["schema"]
    validator = jsonschema.Draft202012Validator({**document(), **schema})
    validator.validate(json.loads(body))


def _assert_query_documented(path_template: str, method: str, operation: dict, query: dict, status: int) -> None:
    """Every query parameter the request sent is one the operation documents; unless the answer is the 400 refusing
    it, its value is one the parameter's schema allows."""
    documented = {
        parameter["name"]: parameter
        for parameter in map(_follow, operation.get("parameters", []))
        if parameter.get("in") == "query"
    }
    for name in query:
        assert name in documented, f"{method} {path_template}: query parameter {name!r} is not documented"
        if status != 400:
            schema = documented[name].get("schema", {})
            assert not list(jsonschema.Draft202012Validator(schema).iter_errors(query[name])), (
                f"{method} {path_template} answered {status} to {name}={query[name]!r}, which the document does not allow"
            )

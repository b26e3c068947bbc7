"""Bad input, table-driven, against a running local cloud (two regions, router) over raw HTTP.

Each row is a request as bytes on a socket (so that nothing normalises it on the way: raw non-ASCII in the path,
malformed lengths, an unknown verb) and the status the documents give it:

- the function's errors (docs/openapi.yaml): 400 / 413 with ``{"error": …}``, CORS and Server-Timing headers;
- the gateway's own (API Gateway's behaviour, backend/local/events.py): 403 Missing Authentication Token for a
  route that does not exist, 413 above the 10 MB payload limit, and HTTP's 400 / 414 / 431 / 501 for requests it
  cannot parse, always as JSON ``{"message": …}``.

Data written before the table is read back unchanged afterwards, and no process of the cloud logged a traceback.
"""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest
from openapi_contract import assert_conforms

from backend import limits
from backend.local.cloud import LocalCloud

pytestmark = pytest.mark.e2e

US, EU = "us-west-2", "eu-central-1"
SEED = {
    "seed-plain": "Just testing",
    "seed wörld ✓": "ünïcödé value ✓",
    "seed-quote": 'a "quoted" \\ value',
}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    local = LocalCloud(regions=[US, EU], network="none", state_dir=tmp_path_factory.mktemp("bad-input"))
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="module")
def seeded(cloud):
    """The items written before the table, as each region answered them."""
    written = {}
    for key, value in SEED.items():
        status, _, body = exchange(cloud, "region", request("POST", "/dev/" + quote(key), json_body(value)))
        assert status == 200, body
        written[key] = json.loads(body)
    return written


# ------------------------------------------------------------------------------------------------ plumbing


def request(method: str, target, body: bytes = b"", headers: dict | None = None, length=None) -> bytes:
    """The bytes of one HTTP/1.1 request; ``target`` may be bytes (sent as they are) and ``length`` a lie."""
    target = target if isinstance(target, bytes) else target.encode("ascii")
    lines = [method.encode("ascii") + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in (headers or {}).items()]
    if length is not None or body:
        lines.append(b"Content-Length: " + str(len(body) if length is None else length).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def json_body(value) -> bytes:
    return json.dumps({"value": value}, ensure_ascii=False).encode("utf-8")


def exchange(cloud, target: str, raw: bytes) -> tuple[int, dict, bytes]:
    """Sends ``raw`` to a region's gateway or to the global router; (status, headers, body) of the answer."""
    base = cloud.endpoints["regions"][US] if target == "region" else cloud.endpoints["global"]
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        try:
            connection.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):  # answered and closed before all was sent
            pass
        response = http.client.HTTPResponse(connection)
        response.begin()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


@dataclass(frozen=True)
class Row:
    name: str
    raw: bytes
    status: int
    field: str  # "error": the function answered; "message": the gateway did
    method: str = ""  # set when the function answered: the response must conform to docs/openapi.yaml
    target: str = "region"


KEY_LIMIT = limits.MAX_KEY_BYTES
HUGE = 70_000  # above http.server's 65,536-byte line limit (API Gateway's own limits are lower)
ROWS = [
    # -- keys
    Row("key one byte over 2048", request("POST", "/dev/" + "k" * (KEY_LIMIT + 1), json_body("x")), 400, "error", "POST"),
    Row("key over 2048 bytes in 3-byte characters", request("GET", "/dev/" + quote("€" * 683)), 400, "error", "GET"),
    Row("key over 2048 bytes, delete", request("DELETE", "/dev/" + "k" * 5000), 400, "error", "DELETE"),
    Row("reserved key, write", request("POST", "/dev/_secret", json_body("x")), 400, "error", "POST"),
    Row("reserved key, read", request("GET", "/dev/_secret"), 400, "error", "GET"),
    Row("reserved key, delete", request("DELETE", "/dev/_health2"), 400, "error", "DELETE"),
    Row("reserved key, encoded underscore", request("POST", "/dev/%5Fx", json_body("x")), 400, "error", "POST"),
    Row("key not UTF-8 once decoded", request("GET", "/dev/%FF%FE"), 403, "message"),
    Row("key of raw bytes that are not UTF-8", request("GET", b"/dev/\xff\xfe"), 403, "message"),
    Row("URI too long", request("GET", "/dev/" + "k" * HUGE), 414, "message"),
    # -- values and bodies
    Row("value above the 400 KB item limit", request("POST", "/dev/big", json_body("v" * 400_001)), 413, "error", "POST"),
    Row("empty value", request("POST", "/dev/k", json_body("")), 400, "error", "POST"),
    Row("no body", request("POST", "/dev/k"), 400, "error", "POST"),
    Row("blank body", request("POST", "/dev/k", b"  \n "), 400, "error", "POST"),
    Row("invalid JSON", request("POST", "/dev/k", b"{value: 'x'}"), 400, "error", "POST"),
    Row("truncated JSON", request("POST", "/dev/k", b'{"value": "x'), 400, "error", "POST"),
    Row("deeply nested JSON", request("POST", "/dev/k", b"[" * 100_000), 400, "error", "POST"),
    Row("JSON array", request("POST", "/dev/k", b'["x"]'), 400, "error", "POST"),
    Row("JSON string", request("POST", "/dev/k", b'"x"'), 400, "error", "POST"),
    Row("JSON null", request("POST", "/dev/k", b"null"), 400, "error", "POST"),
    Row("value a number", request("POST", "/dev/k", json_body(3)), 400, "error", "POST"),
    Row("value a boolean", request("POST", "/dev/k", json_body(True)), 400, "error", "POST"),
    Row("value null", request("POST", "/dev/k", json_body(None)), 400, "error", "POST"),
    Row("value an array", request("POST", "/dev/k", json_body(["x"])), 400, "error", "POST"),
    Row("value an object", request("POST", "/dev/k", json_body({"v": "x"})), 400, "error", "POST"),
    Row("value a lone surrogate", request("POST", "/dev/k", b'{"value": "\\ud800"}'), 400, "error", "POST"),
    Row("body not UTF-8", request("POST", "/dev/k", b'{"value": "\xff\xfe"}'), 400, "error", "POST"),
    Row("body in UTF-16", request("POST", "/dev/k", '{"value": "x"}'.encode("utf-16")), 400, "error", "POST"),
    Row("body over the 10 MB payload limit", request("POST", "/dev/k", b"{}", length=10 * 1024 * 1024 + 1), 413, "message"),
    Row("Content-Length not a number", request("POST", "/dev/k", b"{}", length="abc"), 400, "message"),
    Row("Content-Length negative", request("POST", "/dev/k", b"{}", length=-5), 400, "message"),
    Row(
        "chunked body with a bad chunk size",
        request("POST", "/dev/k", b"zz\r\nxx\r\n0\r\n\r\n", headers={"Transfer-Encoding": "chunked"}),
        400,
        "message",
    ),
    # -- methods and paths
    Row("unknown method", request("BREW", "/dev/k"), 501, "message"),
    Row("PUT is not routed", request("PUT", "/dev/k", json_body("x")), 403, "message"),
    Row("PATCH is not routed", request("PATCH", "/dev/k", json_body("x")), 403, "message"),
    Row("POST on the health route", request("POST", "/dev/_health", json_body("x")), 403, "message"),
    Row("nested path", request("GET", "/dev/a/b"), 403, "message"),
    Row("no stage", request("GET", "/seed-plain"), 403, "message"),
    Row("wrong stage", request("GET", "/prod/seed-plain"), 403, "message"),
    Row("empty key", request("GET", "/dev/"), 403, "message"),
    Row("dot segments", request("GET", "/dev/../dev/seed-plain"), 403, "message"),
    # -- headers
    Row("one header above 64 KB", request("GET", "/dev/k", headers={"X-Big": "a" * HUGE}), 431, "message"),
    Row("too many headers", request("GET", "/dev/k", headers={f"X-H{i}": "a" for i in range(120)}), 431, "message"),
    # -- the same through the global (latency-routed) endpoint
    Row("global: key over 2048 bytes", request("POST", "/" + "k" * 3000, json_body("x")), 400, "error", "POST", "global"),
    Row("global: reserved key", request("POST", "/_x", json_body("x")), 400, "error", "POST", "global"),
    Row("global: invalid JSON", request("POST", "/k", b"{nope"), 400, "error", "POST", "global"),
    Row("global: raw bytes that are not UTF-8", request("GET", b"/\xff\xfe"), 403, "message", target="global"),
    Row("global: unknown method", request("BREW", "/k"), 501, "message", target="global"),
    Row("global: one header above 64 KB", request("GET", "/k", headers={"X-Big": "a" * HUGE}), 431, "message", target="global"),
    Row("global: URI too long", request("GET", "/" + "k" * HUGE), 414, "message", target="global"),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_bad_input_gets_its_documented_status_and_a_json_error(cloud, seeded, row):
    status, headers, body = exchange(cloud, row.target, row.raw)
    assert status == row.status, body[:300]
    assert headers.get("content-type", "").startswith("application/json"), headers
    document = json.loads(body)
    assert isinstance(document.get(row.field), str) and document[row.field], document
    assert b"Traceback" not in body and b'File "' not in body
    if row.method:  # the function answered: as docs/openapi.yaml says, CORS and Server-Timing included
        assert_conforms("/{key}", row.method, status, headers, body.decode("utf-8"))


def test_a_body_on_get_is_ignored(cloud, seeded):
    status, headers, body = exchange(
        cloud, "region", request("GET", "/dev/seed-plain", b'{"value": "other"}')
    )
    assert status == 200
    assert json.loads(body)["value"] == SEED["seed-plain"]
    assert_conforms("/{key}", "GET", status, headers, body.decode())


def test_raw_utf8_in_the_path_is_the_same_key_as_percent_encoded(cloud, seeded):
    """curl sends /dev/wörld as raw UTF-8 bytes; it must name the key "wörld", not its Latin-1 reading."""
    for target, prefix in (("region", "/dev/"), ("global", "/")):
        raw_path = (prefix + "raw wörld").replace(" ", "%20").encode("utf-8")
        status, _, body = exchange(cloud, target, request("POST", raw_path, json_body(f"via {target}")))
        assert status == 200, body
        assert json.loads(body)["key"] == "raw wörld"
        status, _, body = exchange(cloud, "region", request("GET", "/dev/" + quote("raw wörld")))
        assert (status, json.loads(body)["value"]) == (200, f"via {target}")


def test_stored_data_is_intact_and_nothing_logged_a_traceback(cloud, seeded):
    # Runs after the table (pytest keeps file order): every bad request above changed nothing.
    for row in ROWS:
        exchange(cloud, row.target, row.raw)
    for key, written in seeded.items():
        status, _, body = exchange(cloud, "region", request("GET", "/dev/" + quote(key)))
        read = json.loads(body)
        assert status == 200, body
        assert (read["value"], read["writtenAt"], read["writeRegion"]) == (
            SEED[key],
            written["writtenAt"],
            written["region"],
        )
    for key in ("k", "big", "_secret", "x"):
        status, _, _ = exchange(cloud, "region", request("GET", "/dev/" + key))
        assert status in (404, 400), key  # nothing was stored by a rejected write
    logs = "\n".join(path.read_text(errors="replace") for path in (cloud.state_dir / "logs").glob("*.log"))
    assert "Traceback" not in logs, logs[-3000:]

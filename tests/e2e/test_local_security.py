"""Local cloud security: loopback-only listeners, control planes that refuse other peers, logs without secrets.

The stack is a real ``LocalCloud`` (two regions, replicator, geo router, control API) on 127.0.0.1. Its listening
sockets are read from ``/proc/<pid>/net/tcp{,6}`` (the namespace's sockets) matched by inode with the sockets in
``/proc/<pid>/fd`` (the process's own). A non-loopback peer cannot be produced on this machine, so the refusal is
tested by running the real ASGI apps of the endpoints on a request from a client address of our choosing.

Logs: every child process gets a ``sitecustomize`` that turns logging on at INFO (their own ``basicConfig`` at
WARNING is then a no-op), and the cloud starts with marker AWS credentials; marker values are written, read,
replicated and deleted; then no log file may hold a marker or a credential.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import socket
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import requests

from backend.local.cloud import LocalCloud
from backend.local.control.routes import control_app
from backend.local.gateway.stage import stage_app
from backend.local.region import RegionServer
from backend.local.region_admin import admin_routes
from backend.local.replication.admin import admin_app

UNSPECIFIED = str(ipaddress.IPv4Address(0))  # the wildcard address: never a listener of ours, never a peer we trust

pytestmark = pytest.mark.e2e

US, EU = "us-west-2", "eu-central-1"
# Made up per run so that a hit can only come from this run's writes. The secret never goes over the wire
# (SigV4 signs with it); the access key id does, in every Authorization header.
ACCESS_KEY_MARKER = "AKIA" + uuid.uuid4().hex[:16].upper()
SECRET_MARKER = "secret-" + uuid.uuid4().hex
LOG_SITECUSTOMIZE = """
    import logging, sys
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("log-probe").info("this process logs at INFO")
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A two-region cloud whose processes log at INFO into ``state_dir/logs``, started with marker credentials."""
    hooks = tmp_path_factory.mktemp("log-hooks")
    (hooks / "sitecustomize.py").write_text(textwrap.dedent(LOG_SITECUSTOMIZE))
    state_dir = tmp_path_factory.mktemp("secure-cloud")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(hooks))
        patch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_MARKER)
        patch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_MARKER)
        patch.setenv("AWS_SESSION_TOKEN", SECRET_MARKER + "-token")
        cloud = LocalCloud(regions=[US, EU], network="none", state_dir=state_dir)
        cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()


# ----------------------------------------------------------------------------------------- /proc reading


def _address(hex_address: str) -> str:
    """``0100007F:1F90`` → ``127.0.0.1``; IPv6 is four little-endian 32-bit words."""
    raw = bytes.fromhex(hex_address.split(":")[0])
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def bound_sockets(pid: int) -> list[tuple[str, str, int]]:
    """(protocol, local address, port) of every listening TCP socket and bound UDP socket the process holds."""
    inodes = _socket_inodes(pid)
    found = []
    for protocol in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{protocol}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], int(fields[9])
            listening = state == "0A" if protocol.startswith("tcp") else True  # 0A: TCP_LISTEN
            if inode in inodes and listening:
                found.append((protocol, _address(local), int(local.split(":")[1], 16)))
    return found


def process_tree(group_leaders) -> list[int]:
    """Every live process in the given process groups (each child of LocalCloud leads its own group)."""
    groups = set(group_leaders)
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Fields after the ")" that closes the command name: state, ppid, pgrp, ...
        pgrp = int(stat.rsplit(")", 1)[1].split()[2])
        if pgrp in groups:
            members.append(int(entry))
    return members


def test_proc_reader_reports_the_real_bound_address():
    """The reader itself: a listener on another loopback address (127.0.0.2) is found with that address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        probe.listen()
        port = probe.getsockname()[1]
        assert ("tcp", "127.0.0.2", port) in bound_sockets(os.getpid())


@pytest.mark.parametrize(
    "hex_address, expected",
    [
        ("00000000:1F90", UNSPECIFIED),  # a wildcard listener, as /proc/net/tcp shows it
        ("0100007F:1F90", "127.0.0.1"),
        ("00000000000000000000000001000000:1F90", "::1"),
        ("00000000000000000000000000000000:1F90", "::"),
    ],
)
def test_proc_address_decoding(hex_address, expected):
    assert _address(hex_address) == expected


def test_every_listener_of_the_stack_binds_loopback_only(stack):
    pids = process_tree(stack.pids.values())
    assert set(stack.pids.values()) <= set(pids)
    listeners = {pid: bound_sockets(pid) for pid in pids}
    everything = [entry for found in listeners.values() for entry in found]
    for protocol, address, port in everything:
        assert ipaddress.ip_address(address).is_loopback, f"{protocol} {address}:{port} is not loopback"
    # Not vacuous: every advertised endpoint is among the sockets found (2 a region, router, control, replicator).
    ports = {port for _, _, port in everything}
    advertised = [*stack.endpoints["regions"].values(), *stack.endpoints["dynamodb"].values()]
    advertised += [stack.endpoints["global"], stack.endpoints["control"], stack.endpoints["replicator"]]
    for url in advertised:
        assert int(url.rsplit(":", 1)[1].split("/")[0]) in ports, url
    assert len(everything) >= len(advertised)


# ------------------------------------------------------------------------- who may use a control plane


class _Recorder:
    """Stands in for whatever a handler would act on; any attribute access is a change attempt."""

    def __init__(self):
        self.touched = []

    def __getattr__(self, name):
        self.touched.append(name)
        raise AssertionError(f"a refused client reached {name}")


def serve_one(app, client_ip: str, method: str, path: str, document=None) -> tuple[int, dict]:
    """Runs the real ASGI app of an endpoint on one request as if ``client_ip`` had connected; (status, JSON body)."""
    body = json.dumps(document).encode() if document is not None else b""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"x"), (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        "client": (client_ip, 40000), "server": ("127.0.0.1", 80),
    }
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(payload) if payload else {}


NOT_LOOPBACK = [
    "203.0.113.9",
    "10.0.0.5",
    "192.168.1.20",
    UNSPECIFIED,
    "2001:db8::1",
    "::ffff:10.0.0.5",
    "bogus",
]
LOOPBACK = ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1"]


@pytest.mark.parametrize("client_ip", NOT_LOOPBACK)
@pytest.mark.parametrize(
    "method, path, document",
    [("GET", "/status", None), ("POST", "/reset", {}), ("POST", "/regions/us-west-2/down", {})],
)
def test_control_api_refuses_non_loopback_clients(client_ip, method, path, document):
    control = _Recorder()
    status, body = serve_one(control_app(control), client_ip, method, path, document)
    assert status == 403
    assert "loopback" in body["error"]
    assert control.touched == []


class _StatusOnly:
    def status(self):
        return {"regions": {}}


@pytest.mark.parametrize("client_ip", LOOPBACK)
def test_control_api_answers_all_of_127_8_and_ipv6_loopback(client_ip):
    status, body = serve_one(control_app(_StatusOnly()), client_ip, "GET", "/status")
    assert (status, body) == (200, {"regions": {}})


@pytest.mark.parametrize("client_ip", NOT_LOOPBACK)
def test_region_admin_api_refuses_non_loopback_clients(client_ip):
    region = RegionServer(US, mode="none")  # not started: the admin decision needs no table
    app = stage_app(region, admin_routes(region))
    status, body = serve_one(app, client_ip, "POST", "/__admin/config", {"down": True, "clock_offset_ms": 5000})
    assert status == 403 and "loopback" in body["error"]
    assert region.settings.down is False and region.settings.clock_offset_ms == 0


@pytest.mark.parametrize("client_ip", ["127.0.0.2", "::1"])
def test_region_admin_api_answers_loopback_clients(client_ip):
    region = RegionServer(US, mode="none")
    app = stage_app(region, admin_routes(region))
    status, body = serve_one(app, client_ip, "POST", "/__admin/config", {"down": True})
    assert status == 200 and body["down"] is True
    assert region.settings.down is True


@pytest.mark.parametrize("client_ip", NOT_LOOPBACK)
@pytest.mark.parametrize("method, path", [("GET", "/status"), ("POST", "/pause"), ("POST", "/reset")])
def test_replicator_admin_api_refuses_non_loopback_clients(client_ip, method, path):
    replicator = _Recorder()
    status, body = serve_one(admin_app(replicator), client_ip, method, path, {"region": US})
    assert status == 403 and "loopback" in body["error"]
    assert replicator.touched == []


def test_global_endpoint_does_not_reach_a_region_admin_api(stack):
    """The router prefixes the stage to whatever path it forwards, so ``/__admin/…`` never leaves the stage."""
    base = stack.endpoints["global"]
    for path in ("/__admin/config", "/../__admin/config", "/%2E%2E/__admin/config", "//__admin/status"):
        answer = requests.post(base + path, json={"down": True}, timeout=10)
        assert answer.status_code in (403, 404), (path, answer.status_code, answer.text)
        assert "down" not in answer.text
    for region in (US, EU):
        assert requests.get(f"{stack.endpoints['regions'][region]}/_health", timeout=10).status_code == 200


# --------------------------------------------------------------------------------------------------- logs


def _eventually(check, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_logs_at_info_hold_no_credentials_and_no_stored_values(stack):
    regions, marker = stack.endpoints["regions"], "marker-value-" + uuid.uuid4().hex
    with requests.Session() as http:
        for index, base in enumerate([regions[US], regions[EU], stack.endpoints["global"]]):
            key = f"secure-{index}-{uuid.uuid4().hex[:8]}"
            assert (
                http.post(f"{base}/{key}", json={"value": f"{marker}-{index}"}, timeout=10).status_code == 200
            )
            assert http.get(f"{base}/{key}", timeout=10).json()["value"] == f"{marker}-{index}"
            # Replicated into both regions: the replicator has moved (and could have logged) the value.
            for region in (US, EU):
                url = f"{regions[region]}/{key}"
                assert _eventually(lambda url=url: http.get(url, timeout=10).status_code == 200), url
        # Rejected input that carries the marker, and a delete: error paths log too.
        assert (
            http.post(f"{regions[US]}/bad", data=json.dumps({"value": [marker]}), timeout=10).status_code
            == 400
        )
        assert http.post(f"{regions[US]}/bad", data=marker + "{", timeout=10).status_code == 400
        assert http.delete(f"{regions[EU]}/secure-0-x", timeout=10).status_code == 200
    # Something is logged at INFO (so the check below can fail): the router reports a region's outage.
    stack.control.region_down(EU)
    try:
        logs_dir = stack.state_dir / "logs"
        assert _eventually(lambda: "is now unhealthy" in _all_logs(logs_dir)), _all_logs(logs_dir)[-2000:]
    finally:
        stack.control.region_up(EU)
    # Every process of the stack logged at INFO (the hook took effect in each).
    files = sorted(logs_dir.glob("*.log"))
    assert {path.stem for path in files} >= {f"region-{US}", f"region-{EU}", "replicator", "global"}
    for path in files:
        assert "INFO log-probe: this process logs at INFO" in path.read_text(errors="replace"), path.name
    text = _all_logs(logs_dir)
    for secret in (marker, ACCESS_KEY_MARKER, SECRET_MARKER):
        assert secret not in text, f"{secret} appears in the logs:\n" + "\n".join(
            line for line in text.splitlines() if secret in line
        )


def _all_logs(directory: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in sorted(directory.glob("*.log")))


@pytest.mark.parametrize("host", [UNSPECIFIED, "::", "192.168.1.20", "example.com", 7])
def test_replicator_refuses_to_bind_its_admin_api_off_loopback(tmp_path, host):
    from backend.local.replication.config import ConfigError, load_config

    config = {"regions": {US: "http://127.0.0.1:1", EU: "http://127.0.0.1:2"}, "state_dir": str(tmp_path)}
    path = tmp_path / "replicator.json"
    path.write_text(json.dumps({**config, "admin_host": host}))
    with pytest.raises(ConfigError, match="loopback"):
        load_config(path)
    path.write_text(json.dumps({**config, "admin_host": "127.0.0.1"}))
    assert load_config(path)["admin_host"] == "127.0.0.1"

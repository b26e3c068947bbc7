"""One timed HTTP request = one sample row (see ``dashboard.measure.samples`` for the columns).

``TimedClient(target, base_url, timeout_s=10, epoch=None)`` holds ONE keep-alive connection (``http.client``) to one
target. It is not thread-safe: the probes give every worker thread its own client per target. Owning the connection
ourselves makes connection reuse exact rather than inferred: before each request we know whether a socket is open;
when it is not, we open it explicitly and time that step (``connect_ms``, TCP plus TLS for https), and the sample is
marked ``new_connection=True`` so summaries can keep cold requests apart from warm ones. A server that answers
``Connection: close`` simply makes every request a new-connection one, which the samples then show.

Timing: ``latency_ms`` runs on ``time.perf_counter`` (monotonic) from just before the request is written (or the
connection opened) to the last byte of the body read. ``timestamp`` is the wall clock at send, for humans and
exports only. The ``Server-Timing`` header (``db;dur=<ms>, app;dur=<ms>``) gives the function (``server_app_ms``)
and DynamoDB (``server_db_ms``) times; ``network_ms = latency_ms - server_app_ms`` is everything outside the
function: network round trip, gateway, and this client's own overhead (measured by ``bench/engine_overhead.py``).

A reused connection the server has meanwhile closed fails on first use; the request is then retried once on a new
connection (as urllib3 does), and the sample is marked new_connection. Nothing ever raises for a network or HTTP
problem: the sample carries ``status`` (0 if no HTTP answer) and ``error``.

Methods: ``read(key, consistent=False)``, ``write(key, value)``, ``delete(key)``, ``health()``, ``request(method, path, ...)``,
each returning a ``TimedResult`` (``.row`` the sample dict, ``.body`` the parsed JSON or None,
``.t_sent`` / ``.t_received`` perf_counter seconds); ``close()``.
"""

from __future__ import annotations

import http.client
import json
import math
import re
import socket
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from backend.local.contracts import ITEM_VERSION_HEADER

# Headers a router may use to name the region that served the request (first match wins).
SERVED_REGION_HEADERS = ("X-Served-Region", "X-Served-By", "X-Region", "X-Mrkv-Region")

_METRIC = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")
_DUR = re.compile(r";\s*dur\s*=\s*\"?([0-9.eE+\-]+)\"?")


def parse_server_timing(header: str | None) -> dict[str, float]:
    """``"db;dur=3.1, app;dur=4.0"`` -> ``{"db": 3.1, "app": 4.0}``; metrics without a valid ``dur`` are skipped."""
    timings: dict[str, float] = {}
    if not header:
        return timings
    for part in header.split(","):
        match = _METRIC.match(part)
        if not match:
            continue
        dur = _DUR.search(match.group(2))
        if not dur:
            continue
        try:
            value = float(dur.group(1))
        except ValueError:
            continue
        if math.isfinite(value):
            timings[match.group(1)] = value
    return timings


def key_path(key: str) -> str:
    """Percent-encodes a key as one path segment (any UTF-8 text, '/' included)."""
    return "/" + quote(key, safe="")



@dataclass
class TimedResult:
    row: dict
    body: object
    t_sent: float
    t_received: float
    # The hidden version the write got (ITEM_VERSION_HEADER): the local cloud reports it; AWS keeps it to itself.
    item_version: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.row["ok"])


class TimedClient:
    def __init__(
        self,
        target: str,
        base_url: str,
        timeout_s: float = 10.0,
        epoch: float | None = None,
        clock=time.perf_counter,
        wall_clock=time.time,
    ):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"'{base_url}' is not an http(s) URL")
        self.target = target
        self.base_url = base_url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._base_path = parts.path.rstrip("/")
        self.timeout_s = timeout_s
        self._clock = clock
        self._wall = wall_clock
        self.epoch = clock() if epoch is None else epoch
        self._conn: http.client.HTTPConnection | None = None
        self.connections_opened = 0

    # -- operations ------------------------------------------------------------------------------------------
    def read(self, key: str, consistent: bool = False) -> TimedResult:
        """``consistent``: a strongly consistent read (``?consistent=true``), else an eventually consistent one."""
        path = key_path(key) + ("?consistent=true" if consistent else "")
        return self.request("GET", path, operation="read", key=key)

    def write(self, key: str, value: str) -> TimedResult:
        body = json.dumps({"value": value}).encode("utf-8")
        return self.request("POST", key_path(key), body=body, operation="write", key=key)

    def delete(self, key: str) -> TimedResult:
        return self.request("DELETE", key_path(key), operation="delete", key=key)

    def health(self) -> TimedResult:
        return self.request("GET", "/_health", operation="health", key="")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the timed request -----------------------------------------------------------------------------------
    def _new_connection(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=self.timeout_s)

    def request(
        self, method: str, path: str, body: bytes | None = None, operation: str = "", key: str = ""
    ) -> TimedResult:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        wall = self._wall()
        started = self._clock()
        try:
            response, raw, connect_s, fresh = self._send(method, self._base_path + path, body, headers)
        except (OSError, http.client.HTTPException) as error:
            ended = self._clock()
            self.close()
            row = self._row(
                wall, started, ended, operation, key, 0, 0.0, False, {}, {}, _describe(error, self.timeout_s)
            )
            return TimedResult(row, None, started, ended)
        ended = self._clock()
        parsed = _json_or_none(raw)
        timings = parse_server_timing(response.getheader("Server-Timing"))
        served = next((response.getheader(h) for h in SERVED_REGION_HEADERS if response.getheader(h)), "")
        row = self._row(
            wall,
            started,
            ended,
            operation,
            key,
            response.status,
            connect_s,
            fresh,
            timings,
            parsed if isinstance(parsed, dict) else {},
            "",
            served or "",
        )
        if not row["ok"]:
            message = parsed.get("error") if isinstance(parsed, dict) else None
            row["error"] = str(message or f"HTTP {response.status} {response.reason}".strip())
        if response.will_close:
            self.close()
        return TimedResult(row, parsed, started, ended, response.getheader(ITEM_VERSION_HEADER))

    def _send(self, method, path, body, headers):
        """Sends on the open connection, or opens one (timed). Retries once if a reused connection was stale."""
        for attempt in (1, 2):
            fresh = self._conn is None or self._conn.sock is None
            connect_s = 0.0
            if fresh:
                self.close()
                self._conn = self._new_connection()
                before = self._clock()
                self._conn.connect()
                connect_s = self._clock() - before
                self.connections_opened += 1
            try:
                self._conn.request(method, path, body=body, headers=headers)
                response = self._conn.getresponse()
                raw = response.read()
                return response, raw, connect_s, fresh
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed while idle: retry once, on a new connection.
                self.close()
                if fresh or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _row(
        self, wall, started, ended, operation, key, status, connect_s, fresh, timings, body, error, served=""
    ):
        latency_ms = (ended - started) * 1000.0
        app = timings.get("app", math.nan)
        db = timings.get("db", math.nan)
        ok = 200 <= status < 300 or (status == 404 and operation == "read")
        if not served and isinstance(body, dict):
            served = (
                body.get("readRegion")
                or (body.get("region") if operation in ("write", "delete", "health") else "")
                or ""
            )
        write_region = ""
        if isinstance(body, dict):
            write_region = (
                body.get("writeRegion") or (body.get("region") if operation == "write" else "") or ""
            )
        written_at = body.get("writtenAt") if isinstance(body, dict) else None
        value = body.get("value") if isinstance(body, dict) else None
        return {
            "timestamp": wall,
            "elapsed_s": started - self.epoch,
            "target": self.target,
            "operation": operation,
            "key": key,
            "status": status,
            "ok": ok,
            "latency_ms": latency_ms,
            "connect_ms": connect_s * 1000.0,
            "new_connection": bool(fresh),
            "server_app_ms": app,
            "server_db_ms": db,
            "network_ms": latency_ms - app if not math.isnan(app) else math.nan,
            "served_region": str(served or ""),
            "value": value if isinstance(value, str) else "",
            "write_region": str(write_region),
            "written_at": float(written_at) if isinstance(written_at, (int, float)) else math.nan,
            "error": error,
        }


def _json_or_none(raw: bytes):
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _describe(error: BaseException, timeout_s: float) -> str:
    if isinstance(error, (socket.timeout, TimeoutError)):
        return f"timeout: no answer within {timeout_s:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve host: {error}"
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}" if type(error).__name__ not in text else text

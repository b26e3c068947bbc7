"""``mrkv-probe ping``: how far each AWS region is from this machine, measured, with no AWS account.

Every region's public DynamoDB endpoint answers ``GET https://dynamodb.<region>.amazonaws.com/ping`` without
credentials (cloudping.co and awsping time the same endpoints). For each region this times, apart:

- **new connections** (``count`` of them): DNS resolution, TCP connect (one round trip), TLS handshake (one round
  trip with TLS 1.3, two with 1.2, plus crypto), first byte (request written → response headers: one round trip +
  the endpoint's time) and the total;
- **warm requests** (``count`` more, on one kept-alive connection): first byte and total, which is what a DynamoDB
  client with keep-alive waits per request;

and reports min / p50 / p90 / p99 / max of each (nearest-rank percentiles: with the default 10 samples p99 is the
maximum). The URL template is a setting (``--url-template``, or ``MRKV_PING_URL_TEMPLATE``), so tests point it at a
stand-in on 127.0.0.1. The run is saved as JSON (``.local/ping/ping-<UTC time>.json`` by default) with its context:
the client location the user declares, the date, the template, the count; ``mrkv-local up --client-location
ping:FILE`` then calibrates the local cloud's client↔region delays to it (``backend/local/network/calibration.py``).

With no network the first region's DNS lookup or connect fails at once (or within ``timeout_s``): the run stops
with one line saying so (``Unreachable``), nothing half-written.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from backend.local.network.calibration import RUN_KIND

DEFAULT_URL_TEMPLATE = "https://dynamodb.{region}.amazonaws.com/ping"
TEMPLATE_VARIABLE = "MRKV_PING_URL_TEMPLATE"
DEFAULT_OUTPUT_DIR = Path(".local/ping")
NEW_PHASES = ("dns_ms", "connect_ms", "tls_ms", "first_byte_ms", "total_ms")
WARM_PHASES = ("first_byte_ms", "total_ms")


class Unreachable(ConnectionError):
    """The endpoints cannot be reached from here at all (no DNS, no route): the run stops. A ConnectionError, so
    ``mrkv-probe``'s one error handler reports it in one line like any other failure to reach a target."""


def url_for(template: str, region: str) -> str:
    if "{region}" not in template:
        raise ValueError(f"the URL template must contain {{region}}, got {template!r}")
    url = template.replace("{region}", region)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"the URL template must give https URLs, got {url!r}")
    return url


def ssl_context(cafile: str | None = None) -> ssl.SSLContext:
    """Certificate and host name checked, as any client of the endpoint would (``cafile``: a test CA)."""
    return ssl.create_default_context(cafile=cafile)


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


class _Connection:
    """One HTTPS connection opened step by step, so each step is timed apart."""

    def __init__(self, url: str, context: ssl.SSLContext, timeout_s: float, resolve=socket.getaddrinfo):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 443
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.context, self.timeout_s, self.resolve = context, timeout_s, resolve
        self.http: http.client.HTTPSConnection | None = None

    def open(self) -> dict:
        started = time.perf_counter()
        try:
            family, kind, proto, _, address = self.resolve(self.host, self.port, type=socket.SOCK_STREAM)[0]
        except socket.gaierror as error:
            raise Unreachable(f"cannot resolve {self.host} ({error.strerror or error})") from None
        dns_ms = _ms(started)
        raw = socket.socket(family, kind, proto)
        raw.settimeout(self.timeout_s)
        step = time.perf_counter()
        try:
            raw.connect(address)
        except OSError:
            raw.close()
            raise
        connect_ms = _ms(step)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        step = time.perf_counter()
        try:
            tls = self.context.wrap_socket(raw, server_hostname=self.host)
        except OSError:
            raw.close()
            raise
        tls_ms = _ms(step)
        self.http = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout_s, context=self.context)
        self.http.sock = tls
        return {"dns_ms": dns_ms, "connect_ms": connect_ms, "tls_ms": tls_ms}

    def request(self) -> dict:
        """One GET on the open connection: first byte (headers in) and total (body read), from the write."""
        started = time.perf_counter()
        self.http.request("GET", self.path, headers={"User-Agent": "mrkv-probe-ping"})
        response = self.http.getresponse()
        first_byte_ms = _ms(started)
        response.read()
        total_ms = _ms(started)
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status} from {self.host}{self.path}")
        return {"first_byte_ms": first_byte_ms, "total_ms": total_ms}

    def close(self) -> None:
        if self.http is not None:
            self.http.close()


def percentiles(values) -> dict:
    """n, min, p50, p90, p99, max (nearest rank) of the values, in ms rounded to 0.01."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}

    def rank(q):
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    figures = {"min": ordered[0], "p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99), "max": ordered[-1]}
    return {"n": len(ordered), **{name: round(value, 2) for name, value in figures.items()}}


def ping_region(url: str, count: int, context, timeout_s: float, resolve=socket.getaddrinfo) -> dict:
    """``count`` new connections, then ``count`` warm requests on the last one; per-phase percentiles."""
    new, warm = {phase: [] for phase in NEW_PHASES}, {phase: [] for phase in WARM_PHASES}
    requests = []  # every timed request, for the run store (``ping_runs``); the percentiles are computed from it
    connection = None
    for seq in range(count):
        if connection is not None:
            connection.close()
        connection = _Connection(url, context, timeout_s, resolve)
        started = time.perf_counter()
        phases = connection.open()
        phases.update(connection.request())
        phases["total_ms"] = _ms(started)
        for phase in NEW_PHASES:
            new[phase].append(phases[phase])
        requests.append({"connection": "new", "seq": seq, **phases})
    try:
        for seq in range(count):
            phases = connection.request()
            for phase, value in phases.items():
                warm[phase].append(value)
            requests.append({"connection": "warm", "seq": seq, **phases})
    finally:
        connection.close()
    return {
        "url": url,
        "ok": True,
        "error": None,
        "new": {phase: percentiles(values) for phase, values in new.items()},
        "warm": {phase: percentiles(values) for phase, values in warm.items()},
        "requests": requests,
    }


def _failure(url: str, error: BaseException) -> dict:
    return {
        "url": url, "ok": False, "error": f"{type(error).__name__}: {error}", "new": {}, "warm": {}, "requests": [],
    }  # fmt: skip


def _preflight(url: str, context, timeout_s: float, resolve) -> None:
    """One connection before the run: with no network, say so in one line and stop."""
    connection = _Connection(url, context, timeout_s, resolve)
    try:
        connection.open()
    except Unreachable as error:
        raise Unreachable(f"{error}: no network route to the AWS endpoints from here?") from None
    except ssl.SSLError as error:
        raise Unreachable(f"the TLS handshake with {url} failed ({error.reason or error})") from None
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else (error.strerror or error)
        raise Unreachable(f"cannot connect to {url} ({reason}): no network route from here?") from None
    finally:
        connection.close()


def run(
    regions,
    client_location: str,
    template: str = DEFAULT_URL_TEMPLATE,
    count: int = 10,
    timeout_s: float = 3.0,
    cafile: str | None = None,
    concurrency: int = 4,
    resolve=socket.getaddrinfo,
    progress=None,
) -> dict:
    """The whole run (see the module doc). Raises ``Unreachable`` when the first region cannot be reached at all."""
    if count < 1:
        raise ValueError("--count must be at least 1")
    urls = {region: url_for(template, region) for region in regions}
    if not urls:
        raise ValueError("no region to ping")
    context = ssl_context(cafile)
    started = datetime.now(UTC)
    first = next(iter(urls))
    _preflight(urls[first], context, timeout_s, resolve)
    results, done = {}, 0

    def one(region):
        try:
            return region, ping_region(urls[region], count, context, timeout_s, resolve)
        except (OSError, ssl.SSLError, http.client.HTTPException, Unreachable) as error:
            return region, _failure(urls[region], error)

    with ThreadPoolExecutor(max(1, min(concurrency, len(urls)))) as pool:
        for region, result in pool.map(one, urls):
            results[region] = result
            done += 1
            if progress:
                progress(done, len(urls), region)
    return {
        "kind": RUN_KIND,
        "version": 1,
        "environment": "AWS public endpoints",
        "client_location": client_location,
        "started_at": started.isoformat(timespec="seconds"),
        "url_template": template,
        "count": count,
        "timeout_s": timeout_s,
        "regions": results,
    }


def save(document: dict, path: str | Path | None = None) -> Path:
    """Writes the run as JSON (default ``.local/ping/ping-<UTC time>.json``) and returns where."""
    if path is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = DEFAULT_OUTPUT_DIR / f"ping-{stamp}.json"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def template_setting(flag: str | None) -> str:
    return flag or os.environ.get(TEMPLATE_VARIABLE) or DEFAULT_URL_TEMPLATE


def builtin_ms(client_location: str, region: str) -> float:
    """The built-in model's median round trip from the declared location, to show beside the measured one."""
    from backend.local import network

    try:
        return network.modelled_rtt_ms(network.parse_location(client_location), network.region(region))
    except ValueError:
        return math.nan


def table(document: dict) -> str:
    """The run as a table: p50 of each new-connection phase, warm first byte p50/p90/p99, the built-in model."""
    header = (
        f"{'region':<16}{'dns':>8}{'connect':>9}{'tls':>8}{'1st byte':>10}{'total':>8}"
        f"{'warm p50':>10}{'p90':>8}{'p99':>8}{'model':>8}   (ms; model: built-in, from the declared location)"
    )
    lines = [header]
    for region, result in sorted(document["regions"].items()):
        if not result["ok"]:
            lines.append(f"{region:<16}error: {result['error']}")
            continue
        new, warm = result["new"], result["warm"]["first_byte_ms"]
        cells = [new[phase]["p50"] for phase in NEW_PHASES] + [warm["p50"], warm["p90"], warm["p99"]]
        cells.append(builtin_ms(document["client_location"], region))
        widths = (8, 9, 8, 10, 8, 10, 8, 8, 8)
        lines.append(f"{region:<16}" + "".join(f"{value:>{w}.1f}" for value, w in zip(cells, widths, strict=True)))
    return "\n".join(lines)

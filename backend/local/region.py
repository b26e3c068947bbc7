"""One local AWS region in one process: its DynamoDB (moto) and its API Gateway stage serving the Lambda handlers.

    python -m backend.local.region --region us-west-2 [--host 127.0.0.1] [--port 0] [--dynamodb-port 0]
                                   [--network realistic|none] [--client-location Seattle]

Why one process a region, and this layout (see docs/DEPENDENCY-FACTS in the shared folder for the measurements):

- ``mock_aws`` is started first (starting it wipes moto's state), then the ``keyvalues`` table is created, then a
  ``ThreadedMotoServer`` on 127.0.0.1 in the same process: it shares the in-process state, so other processes (the
  replicator, boto3, the AWS CLI with ``--endpoint-url``) reach this region's table and its stream over HTTP.
- The gateway is a stdlib ``ThreadingHTTPServer`` speaking HTTP/1.1 keep-alive with TCP_NODELAY (without it every
  keep-alive response waits for a delayed ACK, ~40 ms). It turns each request into a REST proxy (v1) event
  (``events.py``) and calls the handler modules in-process, whose boto3 client goes through in-process moto:
  ~1 ms of CPU a request instead of ~2.2 ms through moto's HTTP server.
- The network model: every answer under the stage is delayed by a jittered RTT from the current client location to
  this region (a sleep in the request's own thread, so requests don't queue behind each other); "down" answers 503
  on every route, health included, as an outage would.

On start it prints one line to stdout: ``READY {"region":…, "api": "http://127.0.0.1:P/dev", "dynamodb": …,
"admin": …}``. SIGTERM or SIGINT stops it.

Admin routes (loopback only, not under the stage, never delayed):
``GET/POST /__admin/config`` {"network", "client_location", "down", "clock_offset_ms", "jitter_fraction"},
``POST /__admin/reset`` (drop and recreate the table), ``POST /__admin/stream/trim`` {"upto": seq|null}.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from backend.local import events, network
from backend.local.dynamodb import LocalDynamoDB
from backend.local.loopback import is_loopback

TABLE_NAME = "keyvalues"
log = logging.getLogger("backend.local.region")


class RegionSettings:
    """What the control API can change at run time; read by every request (a lock only for consistent updates)."""

    def __init__(
        self, region: str, mode: str = "realistic", client_location: str = network.DEFAULT_CLIENT_LOCATION
    ):
        self.region = network.region(region)
        self._lock = threading.Lock()
        self.mode = network.check_mode(mode)
        self.client = network.parse_location(client_location)
        self.client_text = client_location
        self.down = False
        self.clock_offset_ms = 0
        self.model = network.LatencyModel(mode)

    def snapshot(self) -> dict:
        return {
            "region": self.region.code,
            "network": self.mode,
            "client_location": self.client_text,
            "client": {"name": self.client.name, "lat": self.client.lat, "lon": self.client.lon},
            "down": self.down,
            "clock_offset_ms": self.clock_offset_ms,
            "jitter_fraction": self.model.jitter_fraction,
            "modelled_rtt_ms": network.modelled_rtt_ms(self.client, self.region)
            if self.mode != "none"
            else 0.0,
        }

    def update(self, changes: dict) -> None:
        """Applies a partial config; raises ValueError (nothing applied) on any bad field."""
        if not isinstance(changes, dict):
            raise ValueError("the config must be a JSON object")
        unknown = set(changes) - {"network", "client_location", "down", "clock_offset_ms", "jitter_fraction"}
        if unknown:
            raise ValueError(f"unknown config fields: {', '.join(sorted(unknown))}")
        mode = network.check_mode(changes["network"]) if "network" in changes else self.mode
        client_text = changes.get("client_location", self.client_text)
        client = network.parse_location(client_text) if "client_location" in changes else self.client
        down = changes.get("down", self.down)
        if not isinstance(down, bool):
            raise ValueError('"down" must be true or false')
        offset = changes.get("clock_offset_ms", self.clock_offset_ms)
        if isinstance(offset, bool) or not isinstance(offset, (int, float)) or abs(offset) > 86_400_000:
            raise ValueError('"clock_offset_ms" must be a number of milliseconds within ±1 day')
        jitter = changes.get("jitter_fraction", self.model.jitter_fraction)
        model = network.LatencyModel(mode, jitter) if isinstance(jitter, (int, float)) else None
        if model is None or isinstance(jitter, bool):
            raise ValueError('"jitter_fraction" must be a number in [0, 1)')
        with self._lock:
            self.mode, self.client, self.client_text, self.down = mode, client, client_text, down
            self.model = model
            clock_changed = offset != self.clock_offset_ms
            self.clock_offset_ms = offset
        if clock_changed:
            _install_clock(offset)

    def delay_s(self) -> float:
        return self.model.rtt_ms(self.client, self.region) / 1000.0


def _install_clock(offset_ms: float) -> None:
    """Skews the writer clock of this region's handlers (writtenAt), to demonstrate last-writer-wins conflicts."""
    from backend.handlers import _runtime

    if offset_ms:
        _runtime.set_clock(lambda: time.time() + offset_ms / 1000.0)
    else:
        _runtime.set_clock(time.time)


def _handler_for(kind: str, method: str):
    from backend.handlers import delete_key, get_key, health, set_key

    if kind == "health":
        return health.main
    return {"GET": get_key.main, "POST": set_key.main, "DELETE": delete_key.main}[method]


class LambdaContext:
    """The few attributes of the Lambda context object a handler might read."""

    def __init__(self, region: str, request_id: str):
        self.aws_request_id = request_id
        self.function_name = f"serverless-keyvalue-dev-{region}"
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{events.ACCOUNT_ID}:function:{self.function_name}"
        )

    def get_remaining_time_in_millis(self) -> int:
        return 6000


class GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway
    disable_nagle_algorithm = True  # see the module docstring: otherwise ~40 ms per keep-alive response
    server_version = "local-apigateway"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature; quiet by default
        pass

    # -- plumbing -----------------------------------------------------------------------------------------------

    def send_error(self, code, message=None, explain=None):
        # Called by http.server for requests it cannot parse; its default answer is an HTML page.
        self.close_connection = True
        self._send(events.protocol_error(code, message or self.responses.get(code, ("Error",))[0]))

    def _send(self, response: events.HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def _read_body(self) -> bytes | None:
        """The request body; None if it is larger than API Gateway accepts (the connection is then closed)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, size = [], 0
            while True:
                line = self.rfile.readline(65537)
                length = int(line.split(b";")[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += length
                if size > events.MAX_PAYLOAD_BYTES:
                    self.close_connection = True
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > events.MAX_PAYLOAD_BYTES:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    # -- verbs ----------------------------------------------------------------------------------------------------

    def do_GET(self):  # noqa: N802
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET  # noqa: N815

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(
                events.HttpResponse(400, [("Content-Type", "application/json")], b'{"message":"Bad Request"}')
            )
            return
        path = events.request_target(self.path)
        if path.startswith("/__admin/"):
            self._send(self.server.region_server.admin(self.command, path, body, is_loopback(self.client_address[0])))
            return
        region_server = self.server.region_server
        # The network's round trip comes on top of the processing time, half on the way in and half on the way
        # out, as on a real path: the function acts mid-way, which is what the lag probe's one-way correction
        # (dashboard/lag_probe.py) assumes of a real network too.
        # Behind the geo router, the router adds the delay of the whole path (events.HOP_HEADER).
        delay = 0.0 if self.headers.get(events.HOP_HEADER) else region_server.settings.delay_s()
        if delay > 0:
            time.sleep(delay / 2)
        response = region_server.serve(
            self.command, path, list(self.headers.items()), body, self.client_address[0]
        )
        if delay > 0:
            time.sleep(delay / 2)
        self._send(response)


class GatewayHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class RegionServer:
    """A region: in-process moto + its HTTP endpoint + the API gateway. ``start()``, ``api_url``, ``stop()``."""

    def __init__(
        self,
        region: str,
        host: str = "127.0.0.1",
        port: int = 0,
        dynamodb_port: int = 0,
        mode: str = "realistic",
        client_location: str = network.DEFAULT_CLIENT_LOCATION,
        table_name: str = TABLE_NAME,
    ):
        self.settings = RegionSettings(region, mode, client_location)
        self.region = self.settings.region.code
        self.host, self.port, self.dynamodb_port = host, port, dynamodb_port
        self.table_name = table_name
        self._dynamodb = LocalDynamoDB(self.region, table_name, host, dynamodb_port)
        self._gateway: GatewayHTTPServer | None = None
        self._gateway_thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> RegionServer:
        _environment_for_handlers(self.region, self.table_name)
        self._dynamodb.start()
        self._gateway = GatewayHTTPServer((self.host, self.port), GatewayHandler)
        self._gateway.region_server = self
        self._gateway_thread = threading.Thread(
            target=self._gateway.serve_forever, name="gateway", daemon=True
        )
        self._gateway_thread.start()
        self._warm_up()
        return self

    def stop(self) -> None:
        if self._gateway is not None:
            self._gateway.shutdown()
            self._gateway.server_close()
            self._gateway = None
        self._dynamodb.stop()

    def close(self) -> None:
        """Closes the listening sockets without waiting for the serving threads (the process is about to exit)."""
        if self._gateway is not None:
            self._gateway.socket.close()
        self._dynamodb.close()

    @property
    def address(self) -> tuple[str, int]:
        return self._gateway.server_address[:2]

    @property
    def api_url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}/{events.STAGE}"

    @property
    def admin_url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    @property
    def dynamodb_url(self) -> str:
        return self._dynamodb.url

    def describe(self) -> dict:
        return {
            "region": self.region,
            "api": self.api_url,
            "dynamodb": self.dynamodb_url,
            "admin": self.admin_url,
        }

    # -- the table ------------------------------------------------------------------------------------------

    def _warm_up(self) -> None:
        """One call through the handler path now, so the first real request doesn't pay moto's ~300 ms load."""
        result = self.serve("GET", f"/{events.STAGE}/_health", [], b"", "127.0.0.1")
        if result.status != 200:
            raise RuntimeError(
                f"the region's health check failed at start: {result.status} {result.body[:200]!r}"
            )

    def reset(self) -> None:
        """Drops and recreates the table (a new stream, as on AWS), so the region holds no data."""
        self._dynamodb.reset()
        from backend.handlers import _runtime

        _runtime.reset()

    # -- requests ---------------------------------------------------------------------------------------------

    def serve(
        self, method: str, raw_path: str, headers, body: bytes | None, source_ip: str
    ) -> events.HttpResponse:
        """The answer of this region's API Gateway stage (without the network delay)."""
        request_id = str(uuid.uuid4())
        if self.settings.down:
            return events.service_unavailable(request_id)
        if body is None:
            return events.request_too_large(request_id)
        matched = events.route(method, raw_path)
        if matched.kind == "missing":
            return events.missing_authentication_token(request_id)
        if matched.kind == "preflight":
            return events.preflight(matched, os.environ.get("CORS_ALLOW_ORIGIN", "*"))
        event = events.request_to_event(
            method,
            raw_path,
            headers,
            body,
            matched,
            source_ip=source_ip,
            region=self.region,
            request_id=request_id,
        )
        try:
            result = _handler_for(matched.kind, method)(event, LambdaContext(self.region, request_id))
        except Exception:  # a crashing function is a 502 for the client, as on API Gateway
            log.exception("handler crashed on %s %s", method, raw_path)
            return events.internal_server_error(request_id)
        return events.response_from_result(result, request_id)

    def admin(self, method: str, raw_path: str, body: bytes | None, loopback: bool) -> events.HttpResponse:
        if not loopback:
            return _json(403, {"error": "the admin API answers loopback clients only"})
        path = raw_path.split("?", 1)[0]
        try:
            document = json.loads(body) if body and body.strip() else {}
        except ValueError:
            return _json(400, {"error": "the body is not valid JSON"})
        if path == "/__admin/config" and method == "GET":
            return _json(200, self.settings.snapshot())
        if path == "/__admin/config" and method in ("POST", "PUT"):
            try:
                self.settings.update(document)
            except ValueError as error:
                return _json(400, {"error": str(error)})
            return _json(200, self.settings.snapshot())
        if path == "/__admin/reset" and method == "POST":
            self.reset()
            return _json(200, {"region": self.region, "reset": True})
        if path == "/__admin/stream/trim" and method == "POST":
            return _json(*self._dynamodb.trim(body))
        if path == "/__admin/status" and method == "GET":
            return _json(200, {**self.describe(), **self.settings.snapshot(), "rss_bytes": rss_bytes()})
        return _json(404, {"error": f"no admin route {method} {path}"})


def _json(status: int, document: dict) -> events.HttpResponse:
    return events.HttpResponse(status, [("Content-Type", "application/json")], json.dumps(document).encode())


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process (Linux /proc), in bytes; 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _environment_for_handlers(region: str, table_name: str) -> None:
    """The Lambda environment of this region: its region, its table, DynamoDB reached in-process (no endpoint URL)."""
    os.environ["AWS_REGION"] = region
    os.environ["AWS_DEFAULT_REGION"] = region
    os.environ["KEY_TABLE"] = table_name
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
        "AWS_PROFILE",
    ):
        os.environ.pop(name, None)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend.local.region", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--region", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dynamodb-port", type=int, default=0)
    parser.add_argument("--network", default="realistic", choices=network.NETWORK_MODES)
    parser.add_argument("--client-location", default=network.DEFAULT_CLIENT_LOCATION)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format=f"[region {args.region}] %(levelname)s %(name)s: %(message)s"
    )
    try:
        server = RegionServer(
            args.region, args.host, args.port, args.dynamodb_port, args.network, args.client_location
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    try:
        server.start()
    except OSError as error:
        print(f"error: region {args.region} could not start: {error}", file=sys.stderr)
        return 1
    print("READY " + json.dumps(server.describe()), flush=True)
    while not stopping.wait(0.2):
        pass
    server.close()
    # Nothing to save (moto keeps nothing): skip the interpreter's teardown of moto, which takes ~1 s.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())

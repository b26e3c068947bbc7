"""One local AWS region in one process: its DynamoDB (moto) and its API Gateway stage serving the Lambda handlers.

    python -m backend.local.region --region us-west-2 [--host 127.0.0.1] [--port 0] [--dynamodb-port 0]
                                   [--network realistic|none] [--client-location Seattle] [--network-seed N]
                                   [--cloud-regions us-west-2,eu-central-1,...]

Why one process a region, and this layout (see docs/DEPENDENCY-FACTS in the shared folder for the measurements):

- ``mock_aws`` is started first (starting it wipes moto's state), then the ``keyvalues`` table is created, then a
  ``ThreadedMotoServer`` on 127.0.0.1 in the same process: it shares the in-process state, so other processes (the
  replicator, boto3, the AWS CLI with ``--endpoint-url``) reach this region's table and its stream over HTTP.
- The gateway is the project's HTTP kit (``backend/local/web``: uvicorn, HTTP/1.1 keep-alive) serving
  ``gateway/stage.py``: it turns each request into a REST proxy (v1) event (``gateway/events.py``) and calls the
  handler modules in-process, whose boto3 client goes through in-process moto: ~1 ms of CPU a request instead of
  ~2.2 ms through moto's HTTP server.
- The network model: every answer under the stage is delayed by an RTT sampled from the network model (the
  pair's median with a heavy tail, ``backend/local/network``) from the current client location to this region (``web.with_network_delay``); "down" answers 503 on every route, health included, as an outage would.

On start it prints one line to stdout: ``READY {"region":…, "api": "http://127.0.0.1:P/dev", "dynamodb": …,
"admin": …}``. SIGTERM or SIGINT stops it.

Admin routes (loopback only, not under the stage, never delayed): ``region_admin.py``.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import signal
import sys
import threading
import time

from backend.local import network
from backend.local.contracts import ITEM_VERSION_HEADER, TABLE_NAME
from backend.local.dynamodb import LocalDynamoDB, dynamodb_only, replicas, strong_peers, versions
from backend.local.gateway import events
from backend.local.gateway.stage import stage_app
from backend.local.region_admin import admin_routes
from backend.local.web import WebServer

log = logging.getLogger("backend.local.region")


class RegionSettings:
    """What the control API can change at run time; read by every request (a lock only for consistent updates)."""

    def __init__(
        self,
        region: str,
        mode: str = "realistic",
        client_location: str = network.DEFAULT_CLIENT_LOCATION,
        seed: int | None = None,
    ):
        self.region = network.region(region)
        self.seed = seed  # the network model's samples: the same sequence in every run (after any config change)
        self._lock = threading.Lock()
        self.mode = network.check_mode(mode)
        self.client = network.parse_location(client_location)
        self.client_text = client_location
        self.down = False
        self.isolated = False  # MRSC: cut off from the other regions (strong_peers.py)
        self.clock_offset_ms = 0
        self.model = network.LatencyModel(mode, seed=seed)

    def snapshot(self) -> dict:
        return {
            "region": self.region.code,
            "network": self.mode,
            "client_location": self.client_text,
            "client": {"name": self.client.name, "lat": self.client.lat, "lon": self.client.lon},
            "down": self.down,
            "isolated": self.isolated,
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
        unknown = set(changes) - {
            "network", "client_location", "down", "isolated", "clock_offset_ms", "jitter_fraction"
        }
        if unknown:
            raise ValueError(f"unknown config fields: {', '.join(sorted(unknown))}")
        mode = network.check_mode(changes["network"]) if "network" in changes else self.mode
        client_text = changes.get("client_location", self.client_text)
        client = network.parse_location(client_text) if "client_location" in changes else self.client
        down = changes.get("down", self.down)
        isolated = changes.get("isolated", self.isolated)
        if not isinstance(down, bool) or not isinstance(isolated, bool):
            raise ValueError('"down" and "isolated" must be true or false')
        offset = changes.get("clock_offset_ms", self.clock_offset_ms)
        if isinstance(offset, bool) or not isinstance(offset, (int, float)) or abs(offset) > 86_400_000:
            raise ValueError('"clock_offset_ms" must be a number of milliseconds within ±1 day')
        jitter = changes.get("jitter_fraction", self.model.jitter_fraction)
        try:
            model = network.LatencyModel(mode, jitter, seed=self.seed)
        except ValueError:
            raise ValueError('"jitter_fraction" must be null (heavy-tailed samples) or a number in [0, 1)') from None
        with self._lock:
            self.mode, self.client, self.client_text, self.down = mode, client, client_text, down
            self.isolated = isolated
            strong_peers.set_isolated(isolated)
            self.model = model
            clock_changed = offset != self.clock_offset_ms
            self.clock_offset_ms = offset
        if clock_changed:
            _install_clock(offset)

    def delay_s(self) -> float:
        return self.model.rtt_ms(self.client, self.region) / 1000.0


def _install_clock(offset_ms: float) -> None:
    """Skews this region's clocks, to demonstrate last-writer-wins conflicts: its handlers' (``writtenAt``) and the
    one DynamoDB stamps its writes' hidden versions with (which decides who wins)."""
    from backend.handlers import _runtime

    offset_us = int(offset_ms * 1000)
    if offset_ms:
        _runtime.set_clock(lambda: time.time() + offset_ms / 1000.0)
        versions.set_clock(lambda: time.time_ns() // 1000 + offset_us)
    else:
        _runtime.set_clock(time.time)
        versions.set_clock(lambda: time.time_ns() // 1000)


@functools.cache
def _handler_for(kind: str, method: str):
    from backend.handlers import delete_key, get_key, health, set_key  # after the Lambda environment is set

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
        network_seed: int | None = None,
        consistency: str = "eventual",
        witness: str | None = None,
        role: str = "replica",
    ):
        self.settings = RegionSettings(region, mode, client_location, network_seed)
        self.region = self.settings.region.code
        self.host, self.port, self.dynamodb_port = host, port, dynamodb_port
        self.table_name = table_name
        self.consistency, self.role = consistency, role
        # A witness holds no table (it keeps what it accepted in its door, strong_door.py) and serves no client.
        self._dynamodb = LocalDynamoDB(
            self.region, table_name, host, dynamodb_port, consistency=consistency, witness=witness,
            create_table=role != "witness",
        )
        # MRSC writes wait a round trip for another region: the stage runs them in threads, not in the event loop.
        self.blocking = consistency == "strong"
        strong_peers.set_round_trip(
            lambda a, b: self.settings.model.rtt_ms(network.region(a), network.region(b))
        )
        self._gateway: WebServer | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> RegionServer:
        _environment_for_handlers(self.region, self.table_name)
        self._dynamodb.start()
        self._gateway = WebServer(stage_app(self, admin_routes(self)), self.host, self.port, "gateway").start()
        if self.role != "witness":
            self._warm_up()
        return self

    def stop(self) -> None:
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        self._dynamodb.stop()

    def close(self) -> None:
        """Closes the listening sockets without waiting for the serving threads (the process is about to exit)."""
        if self._gateway is not None:
            self._gateway.close()
        self._dynamodb.close()

    @property
    def address(self) -> tuple[str, int]:
        return self._gateway.address

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
            "role": self.role,
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
        request_id = events.new_request_id()
        if self.settings.down or self.role == "witness":
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
        versions.last_local_write()  # forget any write this thread made before
        try:
            result = _handler_for(matched.kind, method)(event, LambdaContext(self.region, request_id))
        except Exception:  # a crashing function is a 502 for the client, as on API Gateway
            log.exception("handler crashed on %s %s", method, raw_path)
            return events.internal_server_error(request_id)
        response = events.response_from_result(result, request_id)
        written = versions.last_local_write()
        if written is not None:  # emulator-only: the hidden version the write got (the fault runs' checker)
            response.headers.append((ITEM_VERSION_HEADER, versions.as_text(written)))
        return response

    def trim_stream(self, body: bytes) -> tuple[int, dict]:
        """``POST /__admin/stream/trim``: (status, answer)."""
        return self._dynamodb.trim(body)


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
    parser.add_argument("--network-seed", type=int, default=None, help="seed of the network model's samples")
    parser.add_argument("--consistency", default="eventual", choices=("eventual", "strong"))
    parser.add_argument("--witness", default=None, help="the MRSC witness region of the cloud's table")
    parser.add_argument("--role", default="replica", choices=("replica", "witness"))
    parser.add_argument(
        "--cloud-regions",
        default="",
        help="every region of the local cloud, comma-separated (global tables' replicas)",
    )
    args = parser.parse_args(argv)
    replicas.set_cloud_regions([name for name in args.cloud_regions.split(",") if name])
    dynamodb_only.install()  # before moto is imported: ~15 MB less a region process
    logging.basicConfig(
        level=logging.WARNING, format=f"[region {args.region}] %(levelname)s %(name)s: %(message)s"
    )
    try:
        server = RegionServer(
            args.region,
            args.host,
            args.port,
            args.dynamodb_port,
            args.network,
            args.client_location,
            network_seed=args.network_seed,
            consistency=args.consistency,
            witness=args.witness,
            role=args.role,
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

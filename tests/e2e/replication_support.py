"""Processes for the replication end-to-end tests: one moto region process per region, and the real replicator.

A region process here is the smallest stand-in for the local cloud's region server: moto's DynamoDB over HTTP
(``ThreadedMotoServer``, state shared with the process) with the ``keyvalues`` table, plus the admin routes the
replicator calls: ``POST /__admin/dynamodb`` (the door: ``backend.local.dynamodb.in_process``, hidden versions
included) and ``POST /__admin/stream/trim`` (``backend.local.dynamodb.streams``).

    python replication_support.py REGION      → prints {"dynamodb": url, "admin": url} when ready
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLE = "keyvalues"


class Process:
    """A child in its own process group, stopped with its whole group."""

    def __init__(
        self, args: list[str], env: dict | None = None, ready_timeout: float = 30.0, log: Path | None = None
    ):
        self.args = args
        self.log = log
        stderr = open(log, "a") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
        self.popen = subprocess.Popen(
            args,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        )
        if log:
            stderr.close()
        self.ready = self._read_ready(ready_timeout)

    def _read_ready(self, timeout: float) -> dict:
        import selectors

        selector = selectors.DefaultSelector()
        selector.register(self.popen.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                line = self.popen.stdout.readline()
                if not line:
                    break
                try:
                    return json.loads(line)
                except ValueError:
                    continue
            if self.popen.poll() is not None:
                break
        self.kill()
        raise RuntimeError(f"{self.args} did not become ready (exit {self.popen.poll()})")

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


def start_region(region: str) -> Process:
    return Process([sys.executable, str(Path(__file__).resolve()), region])


def start_replicator(config: dict, config_path: Path) -> Process:
    config_path.write_text(json.dumps(config))
    return Process(
        [sys.executable, "-m", "backend.local.replication", "--config", str(config_path)],
        log=config_path.with_suffix(".log"),
        ready_timeout=90.0,  # a shared 2-core machine under load can take this long to import boto3
    )


def post_json(url: str, body: dict, timeout: float = 5.0) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read())


def get_json(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return json.loads(answer.read())


def _serve(region: str) -> None:
    import logging
    import threading

    import boto3
    from moto.server import ThreadedMotoServer
    from starlette.routing import Route

    from backend.local.dynamodb import in_process, replica_door
    from backend.local.dynamodb import streams as stream_janitor
    from backend.local.web import RawResponse, WebServer, json_response, read_body, web_app
    from backend.store import table_definition

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    stream_janitor.install()  # before serving: concurrent writes must not share a sequence number
    replica_door.install()  # every write gets its hidden version
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    dynamodb_url = f"http://{host}:{port}"
    boto3.client(
        "dynamodb",
        region_name=region,
        endpoint_url=dynamodb_url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    ).create_table(**table_definition(TABLE))

    async def memory(request):
        return json_response(200, stream_janitor.stream_memory(region, TABLE))

    async def trim(request):
        return json_response(*stream_janitor.handle_trim_request(region, TABLE, await read_body(request)))

    async def door(request):
        status, body = in_process.answer(region, request.headers.get("x-amz-target", ""), await read_body(request))
        return RawResponse(status, [("Content-Type", in_process.CONTENT_TYPE)], body)

    routes = [
        Route("/__admin/stream/memory", memory),
        Route("/__admin/stream/trim", trim, methods=["POST"]),
        Route("/__admin/dynamodb", door, methods=["POST"]),
    ]
    admin = WebServer(web_app(routes, "test-region-admin", loopback_only=True)).start()
    print(
        json.dumps({"dynamodb": dynamodb_url, "admin": admin.url}),
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    admin.stop()
    moto.stop()


if __name__ == "__main__":
    _serve(sys.argv[1])

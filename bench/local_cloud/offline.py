"""serverless-offline@13 (run by osls), the request path's baseline: the same handlers behind a Node gateway."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from backend.local.memory import rss_bytes
from bench.local_cloud.load import TABLE

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerlessOffline:
    """serverless-offline@13 (through osls) serving backend/handlers against a given DynamoDB endpoint."""

    CONFIG = """service: bench-keyvalue
frameworkVersion: '>=3'
plugins:
  - serverless-offline
provider:
  name: aws
  runtime: python3.11
  stage: dev
  region: us-west-2
  environment:
    KEY_TABLE: {table}
    AWS_ENDPOINT_URL_DYNAMODB: {dynamodb}
    AWS_ACCESS_KEY_ID: local
    AWS_SECRET_ACCESS_KEY: local
functions:
  getKey:
    handler: backend/handlers/get_key.main
    events: [{{http: {{path: '/{{key}}', method: get, cors: true}}}}]
  setKey:
    handler: backend/handlers/set_key.main
    events: [{{http: {{path: '/{{key}}', method: post, cors: true}}}}]
"""

    def __init__(self, dynamodb_url: str):
        self.dynamodb_url = dynamodb_url
        self.folder = Path(tempfile.mkdtemp(prefix="bench-sls-"))
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> str | None:
        """None if it can run here, else why not."""
        if not (ROOT / "node_modules" / ".bin" / "osls").exists():
            return "node_modules/.bin/osls is missing (npm ci)"
        if not (ROOT / "node_modules" / "serverless-offline").exists():
            return "node_modules/serverless-offline is missing (npm ci)"
        if shutil.which("node") is None:
            return "node is not on PATH"
        return None

    def start(self, timeout_s: float = 90) -> str:
        (self.folder / "serverless.yml").write_text(
            self.CONFIG.format(dynamodb=self.dynamodb_url, table=TABLE)
        )
        (self.folder / "backend").symlink_to(ROOT / "backend")
        (self.folder / "node_modules").symlink_to(ROOT / "node_modules")
        environment = dict(os.environ)
        # serverless-offline runs whatever python3 is first on PATH: ours, with boto3.
        environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
        environment["SLS_TELEMETRY_DISABLED"] = "1"
        environment["SLS_NOTIFICATIONS_MODE"] = "off"
        self.log = open(self.folder / "offline.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(ROOT / "node_modules" / ".bin" / "osls"),
                "offline",
                "start",
                "--host",
                "127.0.0.1",
                "--httpPort",
                str(self.port),
                "--lambdaPort",
                str(_free_port()),
                "--noTimeout",
            ],
            cwd=self.folder,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        url = f"http://127.0.0.1:{self.port}/dev"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                requests.get(f"{url}/bench-key", timeout=30)
                return url
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            "serverless-offline did not start: " + (self.folder / "offline.log").read_text()[-2000:]
        )

    def rss(self) -> int:
        if self.process is None:
            return 0
        return sum(rss_bytes(pid) for pid in [self.process.pid, *_descendants(self.process.pid)])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def _descendants(pid: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found.extend(frontier)
    return found

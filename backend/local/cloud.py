"""``LocalCloud``: starts and stops the whole local cloud as child processes (tests, the dashboard, the launcher).

    with LocalCloud(regions=["us-west-2", "eu-central-1"], network="none") as cloud:
        cloud.endpoints   # {"regions": {...}, "global": ..., "dynamodb": {...}, "streams": {...},
                          #  "control": ..., "replicator": ...}
        cloud.control     # a ControlClient

Processes (each in its own process group, each with PR_SET_PDEATHSIG so that even a SIGKILL of the parent doesn't
orphan it; ``children.py``): one per region (``region.py``), the replicator (``replication/``, when there are 2
regions or more) and the global process (geo router + control API, ``control/process.py``). Regions start in parallel; the replicator and the
global process start once the regions are up.

Ports: ``port=0`` takes free ports. With ``port=P``: global P, control P+1, then for region i (in the given order)
API P+2+2i and DynamoDB P+3+2i, then the replicator's admin API.

The children are spawned from one long-lived thread that lives as long as the cloud: PR_SET_PDEATHSIG fires when the
*thread* that forked the child ends, not the process, so spawning from a short-lived thread (a Streamlit script run)
would kill the children early.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from backend.local import network as network_model
from backend.local.children import Child, LocalCloudError, die_with_parent, free_port, signal_group
from backend.local.contracts import DEFAULT_ENDPOINTS_FILE as DEFAULT_ENDPOINTS_FILE
from backend.local.contracts import TABLE_NAME, Endpoints
from backend.local.dynamodb import strong

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REGIONS = ("us-west-2", "eu-central-1")
STOP_GRACE_S = 5.0


def check_consistency(regions: list[str], consistency: str, witness: str | None) -> tuple[str, str | None]:
    """("eventual" | "strong", the witness or None); ValueError for a group MRSC does not allow (AWS's rules)."""
    if consistency not in ("eventual", "strong"):
        raise ValueError(f"consistency must be 'eventual' or 'strong', not {consistency!r}")
    if consistency == "eventual":
        if witness:
            raise ValueError("a witness is only for --consistency strong (MRSC)")
        return consistency, None
    if witness:
        network_model.region(witness)
    strong.check_group(regions, [witness] if witness else [])
    return consistency, witness


def check_regions(regions) -> list[str]:
    if isinstance(regions, str):
        regions = [r for r in regions.replace(" ", "").split(",") if r]
    regions = list(regions)
    if not regions:
        raise ValueError("give at least one region")
    for code in regions:
        network_model.region(code)
    if len(set(regions)) != len(regions):
        raise ValueError(f"a region is listed twice: {', '.join(regions)}")
    return regions


class LocalCloud:
    def __init__(
        self,
        regions=DEFAULT_REGIONS,
        network: str = "realistic",
        client_location: str = network_model.DEFAULT_CLIENT_LOCATION,
        port: int = 0,
        host: str = "127.0.0.1",
        endpoints_file: str | Path | None = None,
        replication_delay: str | int = "auto",
        state_dir: str | Path | None = None,
        health_interval_s: float = 1.0,
        failure_threshold: int = 2,
        dns_ttl_s: float = 0.0,
        replicate: bool | None = None,
        startup_timeout_s: float = 60.0,
        network_seed: int | None = None,
        consistency: str = "eventual",
        witness: str | None = None,
    ):
        self.regions = check_regions(regions)
        self.consistency, self.witness = check_consistency(self.regions, consistency, witness)
        self.network = network_model.check_mode(network)
        network_model.parse_location(client_location)  # fail now, not in a child
        client_location = network_model.absolute_location(client_location)
        if network_seed is not None and (isinstance(network_seed, bool) or not isinstance(network_seed, int)):
            raise ValueError("network_seed must be an integer (or None: different delays every run)")
        self.network_seed = network_seed
        if replication_delay != "auto" and (
            isinstance(replication_delay, bool)
            or not isinstance(replication_delay, int)
            or replication_delay < 0
        ):
            raise ValueError("replication_delay must be 'auto' or a number of milliseconds >= 0")
        if not isinstance(port, int) or not (port == 0 or 1024 <= port <= 65535 - 3 - 2 * len(self.regions)):
            raise ValueError(
                f"port must be 0 (free ports) or a first port in [1024, {65532 - 2 * len(self.regions)}]"
            )
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the local cloud binds loopback only (--host 127.0.0.1)")
        self.client_location = client_location
        self.port, self.host = port, host
        self.endpoints_file = Path(endpoints_file) if endpoints_file else None
        self.replication_delay = replication_delay
        self._own_state_dir = state_dir is None
        # Absolute: the children run with the repository as their working directory, not the caller's.
        self.state_dir = Path(state_dir).resolve() if state_dir else None
        self.health = {
            "health_interval_s": health_interval_s,
            "failure_threshold": failure_threshold,
            "dns_ttl_s": dns_ttl_s,
        }
        self.replicate = len(self.regions) >= 2 if replicate is None else replicate
        self.startup_timeout_s = startup_timeout_s
        self.children: dict[str, Child] = {}
        self.endpoints: dict = {}
        self.region_info: dict[str, dict] = {}
        self.startup_s: float | None = None
        self._spawner: ThreadPoolExecutor | None = None
        self._replicator_port: int | None = None
        self._lock = threading.Lock()
        self.witness_info: dict = {}

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def start(self) -> LocalCloud:
        started = time.monotonic()
        deadline = started + self.startup_timeout_s
        if self.state_dir is None:
            self.state_dir = Path(tempfile.mkdtemp(prefix="localcloud-"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "logs").mkdir(exist_ok=True)
        # moto keeps nothing across restarts, so neither may the replicator's checkpoints of a previous cloud.
        shutil.rmtree(self.state_dir / "replicator", ignore_errors=True)
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="localcloud-spawner")
        try:
            for index, region in enumerate(self.regions):
                api_port = self.port + 2 + 2 * index if self.port else 0
                dynamodb_port = self.port + 3 + 2 * index if self.port else 0
                args = self._region_args(region, api_port, dynamodb_port)
                if self.network_seed is not None:  # one sequence per region, the same every run
                    args += ["--network-seed", str(self.network_seed + index)]
                self._spawn(f"region {region}", args, "READY ")
            if self.witness:
                self._spawn_witness()
            for region in self.regions:
                self.region_info[region] = self.children[f"region {region}"].wait_ready(deadline)
            if self.witness:
                self.witness_info = self.children[f"witness {self.witness}"].wait_ready(deadline)
            self._introduce_doors()
            if self.replicate:
                self._replicator_port = (
                    (self.port + 2 + 2 * len(self.regions)) if self.port else free_port(self.host)
                )
                self._start_replicator()
            global_config = {
                "regions": {
                    r: {k: self.region_info[r][k] for k in ("api", "dynamodb", "admin")} for r in self.regions
                },
                "replicator": self.replicator_url,
                "witnesses": {self.witness: self.witness_info["admin"]} if self.witness else {},
                "host": self.host,
                "global_port": self.port,
                "control_port": self.port + 1 if self.port else 0,
                "network": self.network,
                "client_location": self.client_location,
                "network_seed": self.network_seed,
                **self.health,
            }
            config_path = self.state_dir / "global.json"
            config_path.write_text(json.dumps(global_config, indent=2))
            self._spawn("global", ["-m", "backend.local.control", "--config", str(config_path)], "READY ")
            if self.replicate:
                self.children["replicator"].wait_ready(deadline)
            global_info = self.children["global"].wait_ready(deadline)
        except BaseException:
            self.stop()
            raise
        self.endpoints = {
            "regions": {r: self.region_info[r]["api"] for r in self.regions},
            "global": global_info["global"],
            "dynamodb": {r: self.region_info[r]["dynamodb"] for r in self.regions},
            # moto's server answers DynamoDB and DynamoDB Streams on one port (by X-Amz-Target)
            "streams": {r: self.region_info[r]["dynamodb"] for r in self.regions},
            "control": global_info["control"],
            "replicator": self.replicator_url,
            "consistency": self.consistency,
            "witness": self.witness,
        }
        if self.endpoints_file:
            self._write_endpoints_file()
        self.startup_s = time.monotonic() - started
        return self

    def _region_args(self, region: str, api_port: int, dynamodb_port: int) -> list[str]:
        """The command line of a region process (a replica's, or the witness's with ``--role witness`` added)."""
        args = ["-m", "backend.local.region", "--region", region, "--host", self.host, "--port", str(api_port)]
        args += ["--dynamodb-port", str(dynamodb_port), "--network", self.network]
        args += ["--client-location", self.client_location]
        # every region knows the cloud's regions: UpdateTable checks a new replica's region at once
        args += ["--cloud-regions", ",".join(self.regions)]
        if self.consistency == "strong":
            args += ["--consistency", "strong"] + (["--witness", self.witness] if self.witness else [])
        return args

    def _spawn_witness(self) -> None:
        """The witness: a region process with no table and no client (``--role witness``), on free ports."""
        args = self._region_args(self.witness, 0, 0) + ["--role", "witness"]
        self._spawn(f"witness {self.witness}", args, "READY ")

    def _introduce_doors(self) -> None:
        """Tells every region (and the witness) each other's door: how MRSC writes and strong reads reach them."""
        from backend.local.control.client import call_json

        admins = {region: info["admin"] for region, info in self.region_info.items()}
        if self.witness:
            admins[self.witness] = self.witness_info["admin"]
        doors = {region: admin + "/__admin/dynamodb" for region, admin in admins.items()}
        for admin in admins.values():
            call_json("POST", admin + "/__admin/peers", {"doors": doors})

    @property
    def replicator_url(self) -> str | None:
        return f"http://{self.host}:{self._replicator_port}" if self._replicator_port else None

    def _start_replicator(self) -> None:
        config = {
            "table": TABLE_NAME,
            # the region's in-process door to its tables, not its moto server: ~3x less CPU a replicated write
            "regions": {r: self.region_info[r]["admin"] + "/__admin/dynamodb" for r in self.regions},
            "state_dir": str(self.state_dir / "replicator"),
            "admin_host": self.host,
            "admin_port": self._replicator_port,
            "network": self.network,
            "delay": self.replication_delay,
            "region_admin": {r: self.region_info[r]["admin"] for r in self.regions},
        }
        config_path = self.state_dir / "replicator.json"
        config_path.write_text(json.dumps(config, indent=2))
        self._spawn("replicator", ["-m", "backend.local.replication", "--config", str(config_path)], None)

    def kill_replicator(self) -> None:
        """SIGKILLs the replicator (a crash, for tests of its checkpoints)."""
        child = self.children.get("replicator")
        if child and child.popen.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.popen.wait(STOP_GRACE_S)

    def restart_replicator(self, timeout_s: float = 30.0) -> None:
        """Starts the replicator again (same admin port, same state directory) after it stopped or was killed."""
        if not self.replicate:
            raise LocalCloudError("this cloud runs no replicator")
        child = self.children.get("replicator")
        if child and child.popen.poll() is None:
            raise LocalCloudError("the replicator is still running")
        self._start_replicator()
        self.children["replicator"].wait_ready(time.monotonic() + timeout_s)

    def stop(self) -> None:
        """Stops every child (SIGTERM to its process group, SIGKILL after a grace period). Safe to call twice."""
        with self._lock:
            children = list(self.children.values())
            for child in children:
                signal_group(child.popen, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_S
            for child in children:
                try:
                    child.popen.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    signal_group(child.popen, signal.SIGKILL)
                    child.popen.wait(STOP_GRACE_S)
                if child.popen.stdout:
                    child.popen.stdout.close()
            self.children.clear()
            if self._spawner is not None:
                self._spawner.shutdown(wait=True)
                self._spawner = None
            if self.endpoints_file and self.endpoints and self._endpoints_file_is_ours():
                self.endpoints_file.unlink(missing_ok=True)
            if self._own_state_dir and self.state_dir is not None:
                shutil.rmtree(self.state_dir, ignore_errors=True)
                self.state_dir = None

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- helpers --------------------------------------------------------------------------------------------------

    @property
    def control(self):
        from backend.local.control import ControlClient

        return ControlClient(self.endpoints["control"])

    @property
    def pids(self) -> dict[str, int]:
        return {name: child.pid for name, child in self.children.items()}

    def _spawn(self, name: str, args: list[str], ready_prefix: str | None) -> Child:
        log_path = self.state_dir / "logs" / (name.replace(" ", "-") + ".log")
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
        environment["PYTHONUNBUFFERED"] = "1"
        # Thread-per-connection servers: glibc's per-thread malloc arenas otherwise keep freed memory resident.
        environment.setdefault("MALLOC_ARENA_MAX", "2")
        environment.setdefault("AWS_ACCESS_KEY_ID", "local")
        environment.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        log_file = open(log_path, "ab")  # noqa: SIM115 - the child owns it; closed here right after the fork
        parent = os.getpid()
        try:
            popen = self._spawner.submit(
                subprocess.Popen,
                [sys.executable, *args],
                cwd=str(ROOT),
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log_file,
                process_group=0,
                preexec_fn=die_with_parent(parent),
            ).result()
        finally:
            log_file.close()
        child = Child(name, popen, log_path, ready_prefix)
        self.children[name] = child
        return child

    def _write_endpoints_file(self) -> None:
        Endpoints.from_json(self.endpoints).write(self.endpoints_file)

    def _endpoints_file_is_ours(self) -> bool:
        try:
            return json.loads(self.endpoints_file.read_text()) == self.endpoints
        except (OSError, ValueError):
            return False

    def describe(self) -> str:
        """A readable table of the endpoints."""
        rows = [("region", "API (stage dev)", "DynamoDB endpoint")]
        rows += [(r, self.endpoints["regions"][r], self.endpoints["dynamodb"][r]) for r in self.regions]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append("")
        lines.append(f"global (geo-routed): {self.endpoints['global']}")
        lines.append(f"control API:         {self.endpoints['control']}")
        if self.replicator_url:
            lines.append(f"replicator admin:    {self.replicator_url}")
        lines.append(f"network: {self.network}, client location: {self.client_location}")
        if self.consistency == "strong":
            witness = f", witness {self.witness}" if self.witness else ""
            lines.append(f"consistency: strong (MRSC){witness}")
        return "\n".join(lines)



"""The faults of a chaos run, injected into a running ``LocalCloud``; each ``inject_*`` returns its ``heal``.

    heal = inject(cloud, "region-sigstop", "eu-central-1", settings)
    ...                      # the fault lasts while the clients keep going
    heal()                   # idempotent

Kinds (one at a time; the run heals each before the next):

- ``replication-pause``: the replicator stops applying into one region (control API); writes elsewhere queue up.
- ``replicator-kill``: ``kill -9`` of the replicator, restarted after the fault's duration (same admin port, same
  checkpoint directory): it must resume from its checkpoints and lose nothing.
- ``region-restart``: the region's process is killed with ``kill -9`` and started again on the same ports; moto keeps
  nothing, so it comes back with an empty table and the replicator must backfill it from its peers, as AWS does when
  a replica is added. moto has no storage that survives the process, unlike DynamoDB, whose data outlives any
  crash of the compute in front of it. To emulate that durability, the region is first fenced (replication into it
  paused, 503 on every route, through the control API) and the kill waits until the replicator has read the region's stream to its end and
  applied it elsewhere; then nothing acknowledged exists only in the killed process.
- ``region-sigstop``: ``SIGSTOP`` of the region's process for the duration, then ``SIGCONT`` (a stalled region: its
  requests hang, the router's health check fails it over, the replicator's calls time out and are retried).
- ``clock-offset``: the region's writer clock (``writtenAt``) runs ``clock_offset_ms`` ahead or behind: its writes
  win or lose last-writer-wins against writes that came later or earlier in real time.
- ``region-isolate`` (MRSC runs only, ``STRONG_KINDS``): the control API cuts the region off from the others
  (``isolate_region``), then reconnects it: meanwhile it answers InternalServerError to writes and strong reads and
  nothing replicates into it; the other two regions serve.

On an MRSC table (``cloud.consistency == "strong"``) a ``region-restart`` also takes the region out of the quorum
(``strong_restart.py``): the other regions forget its door before the kill, and it gets theirs (and they its) again
only once it holds every version they held after it came back, so the empty process never answers for the copy
of an acknowledged write it lost.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from urllib.parse import urlsplit

from backend.local.chaos import strong_restart

KINDS = ("replication-pause", "replicator-kill", "region-restart", "region-sigstop", "clock-offset")
STRONG_KINDS = (*KINDS, "region-isolate")
FENCE_DRAIN_TIMEOUT_S = (
    60.0  # a backlog out of the region drains at the replicator's pace: slow on a loaded machine
)


class FaultError(RuntimeError):
    pass


def _get_json(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return json.loads(answer.read())


def replicator_status(cloud) -> dict | None:
    try:
        return _get_json(cloud.replicator_url + "/status", timeout=3.0)
    except (OSError, ValueError):
        return None


def replication_idle(status: dict | None, only_source: str | None = None) -> bool:
    """Nothing queued or backfilling (from one source, or anywhere)."""
    if not status:
        return False
    pairs = [p for p in status["pairs"] if only_source is None or p["source"] == only_source]
    if any(p["backlog"] for p in pairs):
        return False
    # A backfill elsewhere doesn't matter to one source: it copies from regions that keep their data.
    return only_source is not None or not status["backfill_pending"]


def _region_child(cloud, region: str):
    child = cloud.children.get(f"region {region}")
    if child is None or child.popen.poll() is not None:
        raise FaultError(f"the process of region {region} is not running")
    return child


def inject(cloud, kind: str, region: str, settings: dict):
    return {
        "replication-pause": inject_replication_pause,
        "replicator-kill": inject_replicator_kill,
        "region-restart": inject_region_restart,
        "region-sigstop": inject_region_sigstop,
        "clock-offset": inject_clock_offset,
        "region-isolate": inject_region_isolate,
    }[kind](cloud, region, settings)


def _once(action):
    done = []

    def heal():
        if not done:
            done.append(True)
            action()

    return heal


def inject_replication_pause(cloud, region: str, settings: dict):
    cloud.control.pause_replication(region)
    return _once(lambda: cloud.control.resume_replication(region))


def inject_replicator_kill(cloud, region: str, settings: dict):
    cloud.kill_replicator()
    return _once(cloud.restart_replicator)


def inject_clock_offset(cloud, region: str, settings: dict):
    cloud.control.set_clock_offset(region, settings.get("clock_offset_ms", 2000))
    return _once(lambda: cloud.control.set_clock_offset(region, 0))


def inject_region_isolate(cloud, region: str, settings: dict):
    cloud.control.isolate_region(region)
    return _once(lambda: cloud.control.reconnect_region(region))


def inject_region_sigstop(cloud, region: str, settings: dict):
    child = _region_child(cloud, region)
    os.killpg(child.pid, signal.SIGSTOP)
    return _once(lambda: _continue(child))


def _continue(child) -> None:
    try:
        os.killpg(child.pid, signal.SIGCONT)
    except ProcessLookupError:
        pass


def inject_region_restart(cloud, region: str, settings: dict):
    """Fence, drain, kill -9; the heal starts the region again on its ports and waits until it answers (on an MRSC
    table: out of the quorum from before the fence until it has caught up, ``strong_restart.py``)."""
    strong = getattr(cloud, "consistency", "eventual") == "strong"
    if strong:
        strong_restart.leave_quorum(cloud, region)
    # Replication into it stops first, so that its stream settles: only its own writes remain to be read out.
    cloud.control.pause_replication(region)
    cloud.control.region_down(region)
    drain_started = time.monotonic()
    time.sleep(0.3)  # requests already inside the handler finish and reach the stream
    previous = None
    while time.monotonic() - drain_started < FENCE_DRAIN_TIMEOUT_S:
        status = replicator_status(cloud)
        checkpoints = _checkpoints(status, region)
        # drained: nothing of the region queued, and its stream position stood still over one more look
        if replication_idle(status, only_source=region) and checkpoints == previous:
            break
        previous = checkpoints
        time.sleep(0.2)
    else:
        cloud.control.region_up(region)  # no kill: undo the fence, so that the run goes on healed
        cloud.control.resume_replication(region)
        if strong:
            strong_restart.publish_doors(cloud)
        raise FaultError(f"replication out of {region} did not drain within {FENCE_DRAIN_TIMEOUT_S} s")
    child = _region_child(cloud, region)
    os.killpg(child.pid, signal.SIGKILL)
    child.popen.wait(10)

    def heal():
        restart_region(cloud, region)
        cloud.control.resume_replication(region)
        if strong:
            strong_restart.rejoin_when_caught_up(cloud, region)

    return _once(heal)


def _checkpoints(status: dict | None, region: str):
    if not status:
        return None
    return tuple(p["checkpoint"] for p in status["pairs"] if p["source"] == region)


def restart_region(cloud, region: str, timeout_s: float = 60.0) -> None:
    """Starts the region's process again on the ports it had, through the cloud's own spawner, so that
    ``cloud.stop()`` stops it and PR_SET_PDEATHSIG still ties it to the cloud's lifetime.

    ``LocalCloud`` has no public restart of a region (it has one for the replicator); this uses its spawner."""
    info = cloud.region_info[region]
    api_port = urlsplit(info["api"]).port
    dynamodb_port = urlsplit(info["dynamodb"]).port
    old = cloud.children.get(f"region {region}")
    if old is not None and old.popen.poll() is None:
        raise FaultError(f"region {region} is still running")
    if old is not None and old.popen.stdout:
        old.popen.stdout.close()
    args = [
        "-m", "backend.local.region", "--region", region, "--host", cloud.host,
        "--port", str(api_port), "--dynamodb-port", str(dynamodb_port),
        "--network", cloud.network, "--client-location", cloud.client_location,
    ]  # fmt: skip
    if getattr(cloud, "consistency", "eventual") == "strong":  # an MRSC table from its creation, as at the start
        args += ["--cloud-regions", ",".join(cloud.regions), "--consistency", "strong"]
        args += ["--witness", cloud.witness] if cloud.witness else []
    deadline = time.monotonic() + timeout_s
    while True:
        child = cloud._spawn(f"region {region}", args, "READY ")
        try:
            ready = child.wait_ready(deadline)
            break
        except Exception:
            # The port may still be held for a moment by the killed process's sockets: try again.
            if child.popen.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
            try:
                child.popen.wait(5)
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    if ready["api"] != info["api"] or ready["dynamodb"] != info["dynamodb"]:
        raise FaultError(f"region {region} came back on other ports: {ready}")

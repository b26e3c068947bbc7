"""Where the dashboard's requests go: the environment (a target set, and in local mode the control client), and
the local cloud the dashboard owns. No Streamlit: ``dashboard/session.py`` caches and draws what is here.

* ``find_or_start_local_cloud()`` -- an already running local cloud (``$MRKV_ENDPOINTS_FILE``, or
  ``.local/endpoints.json`` when it answers) that is used and never stopped, else one started here and owned
  (``OwnedCloud``, stopped exactly once: by the cache release or at exit, so ``make run`` leaves no process behind).
  ``still_running`` and ``release`` are the cache's validate and release hooks.
* ``local_environment(shared)``, ``file_environment(path)``, ``cloudformation_environment(stack, regions)`` --
  an ``Environment`` for each source; a problem is the environment's ``error``, never an exception.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.local.contracts import DEFAULT_ENDPOINTS_FILE
from dashboard.measure import targets as target_sources
from dashboard.measure.errors import TargetError
from dashboard.measure.targets import TargetSet

log = logging.getLogger(__name__)

# Set to an endpoints file to use an already running local cloud (tests, or `python -m backend.local up`).
ENDPOINTS_ENV = "MRKV_ENDPOINTS_FILE"


@dataclass
class Environment:
    mode: str
    targets: TargetSet | None = None
    control: Any = None  # backend.local.control.ControlClient in local mode
    error: str | None = None
    pending: bool = False  # waiting for the user (e.g. to load the stacks), not a failure

    @property
    def ready(self) -> bool:
        return self.targets is not None and self.error is None

    @property
    def regions(self) -> list[str]:
        return list(self.targets.regions) if self.targets else []

    @property
    def is_local(self) -> bool:
        return self.control is not None


# ---------------------------------------------------------------------------------------------------------------
# The local cloud: one per dashboard server.


class OwnedCloud:
    """A LocalCloud this process started, stopped exactly once (by the cache release or at exit)."""

    def __init__(self, cloud):
        self.cloud = cloud
        self._stopped = False
        self._lock = threading.Lock()

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        try:
            self.cloud.stop()
        except Exception:  # stopping is best effort: the processes may already be gone
            log.exception("stopping the local cloud failed")


def still_running(resource) -> bool:
    """The cache's validate: a cloud whose processes died (killed, crashed) is replaced on the next run."""
    owned = resource.get("owned") if isinstance(resource, dict) else None
    if not isinstance(owned, OwnedCloud):
        # Someone else's cloud: it is gone when its endpoints file is (`backend.local up` removes it on exit).
        return Path(resource["endpoints_file"]).exists() if isinstance(resource, dict) else True
    children = getattr(owned.cloud, "children", {}) or {}
    alive = bool(children) and all(child.popen.poll() is None for child in children.values())
    if not alive:
        owned.stop()  # reap what is left before a new cloud takes over
    return alive


def release(resource) -> None:
    if isinstance(resource, dict) and isinstance(resource.get("owned"), OwnedCloud):
        resource["owned"].stop()


def find_or_start_local_cloud() -> dict:
    """Endpoints of the local cloud for the whole server: an already running one, else one started here.

    ``{"endpoints_file": path, "owned": None}`` for someone else's cloud; ``{"endpoints": mapping, "owned":
    OwnedCloud}`` for ours."""
    configured = os.environ.get(ENDPOINTS_ENV)
    if configured:
        return {"endpoints_file": configured, "owned": None}
    default = DEFAULT_ENDPOINTS_FILE
    if default.exists():
        try:
            running = target_sources.load_endpoints_file(default)
            target_sources.check_reachable(running, timeout_s=1.0)
            return {"endpoints_file": str(default), "owned": None}
        except TargetError:
            pass  # stale file from a stopped cloud: start our own
    from backend.local.cloud import LocalCloud  # starts processes: only when no cloud is running

    # It writes .local/endpoints.json too, so `python -m dashboard.measure` can measure the cloud the app shows;
    # the file is removed when the cloud stops.
    cloud = LocalCloud(endpoints_file=default)
    cloud.start()
    owned = OwnedCloud(cloud)
    atexit.register(owned.stop)
    return {"endpoints": cloud.endpoints, "owned": owned}


# ---------------------------------------------------------------------------------------------------------------
# One environment per source.


def local_environment(shared: dict) -> Environment:
    """The environment of the local cloud that ``find_or_start_local_cloud`` gave."""
    try:
        if "endpoints" in shared:
            target_set = target_sources.from_mapping(shared["endpoints"], "local cloud")
        else:
            target_set = target_sources.load_endpoints_file(shared["endpoints_file"])
    except TargetError as error:
        return Environment("local", error=str(error))
    control = None
    if target_set.control_url:
        from backend.local.control import ControlClient

        control = ControlClient(target_set.control_url)
    return Environment("local", targets=target_set, control=control)


def file_environment(path: str) -> Environment:
    if not path:
        return Environment("file", error="Enter the path of a targets file (JSON or TOML).")
    try:
        return Environment("file", targets=target_sources.load_targets_file(Path(path).expanduser()))
    except TargetError as error:
        return Environment("file", error=str(error))


def cloudformation_environment(stack: str, regions: str) -> Environment:
    """Reads the stacks' outputs: a round of AWS API calls (the page asks for it with a button)."""
    try:
        return Environment("cloudformation", targets=target_sources.load_cloudformation(stack, regions))
    except TargetError as error:
        return Environment("cloudformation", error=str(error))
    except Exception as error:  # boto3 without credentials, no network...: a message, not a traceback
        return Environment("cloudformation", error=f"Could not read the stacks: {error}")

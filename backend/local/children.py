"""The local cloud's child processes: started so that they die with their parent, read until they say they are
ready, stopped by process group. ``LocalCloud`` (``cloud.py``) uses these; nothing here knows what a region is."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1


class LocalCloudError(RuntimeError):
    """The local cloud could not start; the message says which part and why (with its log's last lines)."""


def die_with_parent(parent_pid: int):
    """preexec_fn: SIGTERM this child when the spawning thread of the parent ends (Linux only)."""

    def setup():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            return
        if os.getppid() != parent_pid:  # the parent died between fork and prctl
            os._exit(1)

    return setup


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class Child:
    """A child process, the line it printed when ready, and its log file."""

    def __init__(self, name: str, popen: subprocess.Popen, log_path: Path, ready_prefix: str | None):
        self.name, self.popen, self.log_path = name, popen, log_path
        self.ready_prefix = ready_prefix
        self.ready_info: dict | None = None
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, name=f"stdout-{name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for (
            raw
        ) in self.popen.stdout:  # keeps draining after ready, so a chatty child never blocks on its pipe
            line = raw.decode(errors="replace").strip()
            if self.ready_info is not None:
                continue
            try:
                if self.ready_prefix and line.startswith(self.ready_prefix):
                    self.ready_info = json.loads(line[len(self.ready_prefix) :])
                elif self.ready_prefix is None and line.startswith("{"):
                    document = json.loads(line)
                    if document.get("ready"):
                        self.ready_info = document
            except ValueError:
                continue
            if self.ready_info is not None:
                self._ready.set()
        self._ready.set()  # EOF: the child exited

    def wait_ready(self, deadline: float) -> dict:
        self._ready.wait(max(0.0, deadline - time.monotonic()))
        if self.ready_info is None:
            code = self.popen.poll()
            state = f"exited with code {code}" if code is not None else "is not ready in time"
            raise LocalCloudError(f"{self.name} {state}; last lines of {self.log_path}:\n{self.log_tail()}")
        return self.ready_info

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    @property
    def pid(self) -> int:
        return self.popen.pid


def signal_group(popen: subprocess.Popen, signum: int) -> None:
    if popen.poll() is not None:
        return
    try:
        os.killpg(popen.pid, signum)  # the child leads its own group (process_group=0)
    except (ProcessLookupError, PermissionError):
        pass

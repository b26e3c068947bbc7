"""What every result file carries, and where it goes: one helper for the three benchmarks.

Figures from a shared 2-core machine mean little without the machine, its load and the code they measured, so each
result file holds ``run_context()``: the date (UTC ISO), the git commit, the CPU model, cores, memory and the load
average when the run started. Only the full run (``make bench``: ``python -m bench`` without ``--quick``) writes into
``bench/results/`` (it passes that folder explicitly); every other run writes under ``.local/bench/`` (git-ignored),
so a smoke run never overwrites the published figures.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "bench" / "results"
SCRATCH = ROOT / ".local" / "bench"


def results_dir(published: bool) -> Path:
    """``bench/results/`` for the full run of ``make bench``, ``.local/bench/`` for any other."""
    return PUBLISHED if published else SCRATCH


def _git(*args: str) -> str | None:
    try:
        answer = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return answer.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_context() -> dict:
    """Date, commit and machine of this run; call it at the start (the load average is the one before the run)."""
    commit = _git("rev-parse", "--short", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit or "unknown",
        "uncommitted_changes": bool(status) if status is not None else None,
        "machine": {
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "memory_gb": _memory_gb(),
            "load_average": [round(value, 2) for value in os.getloadavg()],
        },
    }


def describe(context: dict) -> str:
    """One line for a report: date, commit, machine."""
    machine = context["machine"]
    dirty = " (with uncommitted changes)" if context.get("uncommitted_changes") else ""
    return (
        f"{context['date']}, commit {context['commit']}{dirty}; {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gb']} GB, load average at start {' / '.join(map(str, machine['load_average']))}"
    )

"""Per-pair checkpoints and the state file they are saved in.

A checkpoint is per pair: "every record up to sequence S of the source is done for this destination". The state
file holds them with the pauses and owed backfills; it is saved atomically (tmp + rename) a few times
a second. After a kill -9 the reader resumes from the smallest checkpoint of the source (``resume_point``) and
skips, per pair, what that pair had done (the pair's floor).

``StateFile`` also remembers what the last save made durable (``saved_checkpoints``): only that may be trimmed
from a region's stream.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger("backend.local.replicator")

STATE_FILE = "replicator-state.json"


def done_upto(
    head_prev_seq: int | None, queue_empty: bool, read_upto: int | None, floor: int | None
) -> int | None:
    """Largest sequence S of src such that every record <= S is done for dst (None: nothing known done).

    While the pair's queue holds entries, its first unfinished one says how far is done (``head_prev_seq``: the
    sequence read just before it); an empty queue has done everything read. The floor is the checkpoint loaded
    from the state file: what the pair had done before a restart."""
    computed = read_upto if queue_empty else head_prev_seq
    if computed is None:
        return floor
    return computed if floor is None else max(computed, floor)


def resume_point(done: Iterable[int | None]) -> int | None:
    """Where the reader of a source resumes: the smallest checkpoint of its pairs (None: from the start)."""
    seqs = list(done)
    return None if any(seq is None for seq in seqs) else min(seqs)


def resume_seq(saved: dict) -> int | None:
    """``resume_point`` of one source as saved in the state file (sequences are strings there)."""
    seqs = list(saved["checkpoints"].values())
    if any(seq is None for seq in seqs):
        return None
    return min(int(seq) for seq in seqs)


class StateFile:
    def __init__(self, state_dir: str | Path):
        self.state_dir = Path(state_dir)
        self._save_lock = threading.Lock()
        self._lock = threading.Lock()
        self._saved: dict[str, tuple[str | None, int | None]] = {}  # src -> (stream ARN, seq)

    @property
    def path(self) -> Path:
        return self.state_dir / STATE_FILE

    def load(self) -> dict | None:
        """The saved state, or None (no file, or a file that can't be read: start afresh)."""
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            log.warning("ignoring an unreadable state file %s: %s", self.path, error)
            return None

    def save(self, take_state: Callable[[], dict]) -> None:
        """Saves what ``take_state()`` returns. The housekeeper and the admin API both save: one at a time, one
        tmp file; the state is taken inside that turn, so a later save never writes an older state."""
        with self._save_lock:
            state = take_state()
            self.state_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".tmp{os.getpid()}")
            with open(tmp, "w") as handle:
                json.dump(state, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)  # atomic: a kill -9 leaves the old file or the new one, never half
            with self._lock:
                self._saved = {
                    src: (saved["stream"], resume_seq(saved))
                    for src, saved in state.get("sources", {}).items()
                }

    def saved_checkpoints(self) -> dict[str, tuple[str | None, int | None]]:
        """Per source, the stream ARN and the sequence every pair had durably done at the last save."""
        with self._lock:
            return dict(self._saved)

"""A long probe run in a background thread, so a page can watch it live (no Streamlit here).

``LiveRun(work, total_s=None, steps=None)``: ``work(progress, on_sample, stop)`` is the run (a probe call with those
three callbacks wired in); ``start()`` runs it in a daemon thread. While it runs, a page reads ``fraction``,
``step()`` ("step n of N": a label), ``time_left_s()`` and ``samples`` (a copy of the rows so far), and may call
``cancel()``: the probe sees ``stop`` set, ends early, and its result (what it measured, its figures saying the run
was stopped) is kept like any other. ``done`` / ``result`` / ``error`` once it has finished.

``steps(elapsed_s, done, total) -> (n, N, label)`` names the current step; without it the step is the progress
message. ``total_s``: the run's planned length when it is known (failover), for the time left; otherwise the time left
is extrapolated from the progress so far.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class LiveRun:
    def __init__(
        self, work: Callable, total_s: float | None = None, steps: Callable | None = None, clock=None
    ):
        self._work = work
        self.total_s = total_s
        self._steps = steps
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._rows: list[dict] = []
        self.stop = threading.Event()
        self.done_count, self.total, self.message = 0, 0, "starting…"
        self.started_at: float | None = None
        self.result = None
        self.error: BaseException | None = None
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the callbacks the probe calls (from the worker thread) ------------------------------------------------
    def progress(self, done: int, total: int, message: str) -> None:
        with self._lock:
            self.done_count, self.total, self.message = done, total, message

    def on_sample(self, row: dict) -> None:
        with self._lock:
            self._rows.append(row)

    # -- the page's side ---------------------------------------------------------------------------------------
    def start(self) -> LiveRun:
        self.started_at = self._clock()
        self._thread = threading.Thread(target=self._run, name="live-run", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.result = self._work(self.progress, self.on_sample, self.stop)
        except BaseException as error:  # kept for the page to show: a worker thread has nobody else to tell
            self.error = error
        finally:
            self._finished.set()

    def cancel(self) -> None:
        self.stop.set()

    @property
    def cancelled(self) -> bool:
        return self.stop.is_set()

    @property
    def running(self) -> bool:
        return self.started_at is not None and not self._finished.is_set()

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        return self._finished.wait(timeout_s)

    @property
    def samples(self) -> list[dict]:
        with self._lock:
            return list(self._rows)

    def elapsed_s(self) -> float:
        return 0.0 if self.started_at is None else self._clock() - self.started_at

    @property
    def fraction(self) -> float:
        with self._lock:
            done, total = self.done_count, self.total
        if self.total_s:
            return min(1.0, self.elapsed_s() / self.total_s)
        return min(1.0, done / total) if total else 0.0

    def time_left_s(self) -> float | None:
        """Seconds left: from the planned length when known, else extrapolated (None before any progress)."""
        elapsed = self.elapsed_s()
        if self.total_s:
            return max(0.0, self.total_s - elapsed)
        fraction = self.fraction
        return elapsed * (1 - fraction) / fraction if fraction > 0 else None

    def step(self) -> tuple[int, int, str]:
        with self._lock:
            done, total, message = self.done_count, self.total, self.message
        if self._steps is not None:
            return self._steps(self.elapsed_s(), done, total)
        return (min(done + 1, total) if total else 1, total or 1, message)

    def status_line(self) -> str:
        """ "Step n of N: label · 12 s left" (the page's progress text)."""
        n, total, label = self.step()
        left = self.time_left_s()
        left_text = f" · {left:.0f} s left" if left is not None else ""
        return f"Step {n} of {total}: {label}{left_text}"


def recorded(recording, call: Callable, keep: Callable) -> Callable:
    """A ``work`` for ``LiveRun`` that keeps the run in the run store: ``call(progress, on_sample, stop)`` runs the
    probe, ``keep(result) -> (frames, summary)`` says what to keep. A cancelled run is kept as 'stopped', with
    what it measured."""
    from dashboard.measure.runs.recorder import now_iso

    def work(progress, on_sample, stop):
        with recording as run:

            def sample(row):
                run.on_sample(row)
                on_sample(row)

            result = call(progress, sample, stop)
            run.complete(*keep(result))
            if stop.is_set():
                run.store.finish(run.id, "stopped", now_iso())
        return result

    return work

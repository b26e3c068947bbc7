"""Per-request timings reported in the ``Server-Timing`` header.

A context variable, not a global: the local cloud serves many requests on threads of one process,
and each thread (each request) must see only its own DynamoDB time.
"""

import time
from contextlib import contextmanager
from contextvars import ContextVar


class Timings:
    def __init__(self, clock=time.perf_counter):
        self._clock = clock
        self.started = clock()
        self.db_ms = 0.0

    def app_ms(self) -> float:
        return (self._clock() - self.started) * 1000.0

    def header(self) -> str:
        return f"db;dur={self.db_ms:.1f}, app;dur={self.app_ms():.1f}"


_current: ContextVar[Timings | None] = ContextVar("request_timings", default=None)


def start_request() -> Timings:
    timings = Timings()
    _current.set(timings)
    return timings


@contextmanager
def db_call():
    """Adds the time spent inside the block to the current request's DynamoDB time."""
    timings = _current.get()
    started = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings.db_ms += (time.perf_counter() - started) * 1000.0

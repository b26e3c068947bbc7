"""The engine's one worker pool: a few threads send numbered requests, the caller's thread receives the rows.

``RequestPool(total, threads, send, rate=None, start=None, stop=None, name=..., join_timeout_s=...)``:

* each of ``threads`` workers takes the next request index (0 .. ``total`` - 1, in order) and calls
  ``send(index, clients)``, which returns the sample row; ``clients`` is the worker's own dict in which ``send``
  keeps its keep-alive connections (``client_for``), closed when the worker ends;
* with ``rate`` (requests/s), request i is not sent before ``start + i / rate``; a late worker sends at once
  (no catch-up burst beyond the backlog);
* ``rows(wait_s=None)`` yields every row **in the caller's thread** (Streamlit can only draw from its script
  thread); with ``wait_s`` (a callable giving seconds) it also yields None when no row came within that time,
  so the caller can act on a schedule (the failover probe takes a region down mid-run);
* used as a context manager: the workers start on entry; on exit they are joined, and told to stop first when
  the caller's loop failed, so workers never outlive a run. ``stop`` (a ``threading.Event``) ends a run early.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator


def client_for(clients: dict, name: str, make: Callable[[], object]):
    """The worker's keep-alive client for ``name``, made on first use."""
    client = clients.get(name)
    if client is None:
        client = clients[name] = make()
    return client


class RequestPool:
    def __init__(
        self,
        total: int,
        threads: int,
        send: Callable[[int, dict], dict],
        rate: float | None = None,
        start: float | None = None,
        stop: threading.Event | None = None,
        name: str = "pool",
        join_timeout_s: float = 1.0,
    ):
        self.total = total
        self._send = send
        self._rate = rate
        self._start = time.perf_counter() if start is None else start
        self._stop = stop
        self._join_timeout_s = join_timeout_s
        self._results: queue.Queue = queue.Queue()
        self._next = iter(range(total))
        self._lock = threading.Lock()
        self._halt = threading.Event()  # set when the caller's loop fails, so workers don't outlive the run
        self._threads = [
            threading.Thread(target=self._worker, name=f"{name}-{n}", daemon=True)
            for n in range(min(threads, total))
        ]

    def stopped(self) -> bool:
        return self._halt.is_set() or (self._stop is not None and self._stop.is_set())

    def _worker(self) -> None:
        clients: dict = {}
        try:
            while not self.stopped():
                with self._lock:
                    index = next(self._next, None)
                if index is None:
                    return
                if self._rate is not None:
                    delay = self._start + index / self._rate - time.perf_counter()
                    if delay > 0 and (self._halt.wait(delay) or self.stopped()):
                        return
                self._results.put(self._send(index, clients))
        finally:
            for client in clients.values():
                client.close()
            self._results.put(None)  # this worker is done

    def __enter__(self) -> RequestPool:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._halt.set()
        for thread in self._threads:
            thread.join(timeout=self._join_timeout_s)

    def rows(self, wait_s: Callable[[], float] | None = None) -> Iterator[dict | None]:
        finished = 0
        while finished < len(self._threads):
            try:
                row = self._results.get(timeout=None if wait_s is None else wait_s())
            except queue.Empty:
                yield None
                continue
            if row is None:
                finished += 1
                continue
            yield row

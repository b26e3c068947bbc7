"""The engine's one worker pool: every request once, rows in the caller's thread, pacing, and no worker left."""

import threading
import time

import pytest

from dashboard.measure.pool import RequestPool, client_for


class FakeClient:
    closed = 0

    def close(self):
        FakeClient.closed += 1


def test_every_request_is_sent_once_and_rows_arrive_in_the_callers_thread():
    FakeClient.closed = 0
    senders = set()

    def send(index, clients):
        client_for(clients, "t", FakeClient)
        senders.add(threading.current_thread().name)
        return {"index": index}

    caller = threading.current_thread()
    with RequestPool(20, 4, send, name="t") as pool:
        rows = []
        for row in pool.rows():
            assert threading.current_thread() is caller
            rows.append(row["index"])
    assert sorted(rows) == list(range(20))
    assert caller.name not in senders
    assert FakeClient.closed == len(senders)  # one keep-alive client per worker, closed at the end


def test_rate_paces_the_requests():
    started = time.perf_counter()
    with RequestPool(
        5, 2, lambda i, c: {"at": time.perf_counter() - started}, rate=50.0, start=started
    ) as pool:
        times = sorted(row["at"] for row in pool.rows())
    assert times[-1] >= 4 / 50.0 - 0.005


def test_wait_s_yields_none_while_no_row_comes():
    gate = threading.Event()

    def send(index, clients):
        gate.wait(5)
        return {"index": index}

    with RequestPool(1, 1, send) as pool:
        seen = []
        for row in pool.rows(wait_s=lambda: 0.01):
            seen.append(row)
            if row is None:
                gate.set()
    assert seen[0] is None and seen[-1] == {"index": 0}


def test_a_failing_caller_stops_the_workers():
    sent = []

    def send(index, clients):
        sent.append(index)
        return {"index": index}

    with pytest.raises(RuntimeError):
        with RequestPool(1000, 2, send, rate=100.0) as pool:
            for _ in pool.rows():
                raise RuntimeError("the caller's loop failed")
    assert len(sent) < 50
    assert not [t for t in threading.enumerate() if t.name.startswith("pool-")]


def test_stop_ends_the_run_early():
    stop = threading.Event()
    with RequestPool(1000, 2, lambda i, c: {"index": i}, rate=200.0, stop=stop) as pool:
        rows = 0
        for _ in pool.rows():
            rows += 1
            if rows == 3:
                stop.set()
    assert rows < 20

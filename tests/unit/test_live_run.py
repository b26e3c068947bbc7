"""LiveRun's arithmetic (dashboard.measure.live): step n of N, time left, errors kept for the page."""

import threading

from dashboard.measure.live import LiveRun


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_time_left_is_extrapolated_from_progress_and_steps_follow_it():
    clock, gate = Clock(), threading.Event()
    live = LiveRun(lambda progress, on_sample, stop: gate.wait(5), clock=clock).start()
    assert live.time_left_s() is None and live.status_line() == "Step 1 of 1: starting…"
    live.progress(1, 4, "trial 1/4")
    clock.now += 10.0
    assert live.fraction == 0.25 and live.time_left_s() == 30.0
    assert live.status_line() == "Step 2 of 4: trial 1/4 · 30 s left"
    gate.set()
    assert live.wait(5) and live.done and not live.running


def test_a_planned_length_gives_the_time_left_and_named_steps():
    clock, gate = Clock(), threading.Event()
    steps = lambda elapsed, done, total: (1, 3, "before") if elapsed < 2 else (2, 3, "outage")  # noqa: E731
    live = LiveRun(lambda p, s, stop: stop.wait(5), total_s=12.0, steps=steps, clock=clock).start()
    clock.now += 3.0
    assert live.status_line() == "Step 2 of 3: outage · 9 s left" and live.fraction == 0.25
    live.cancel()
    assert live.wait(5) and live.cancelled and live.error is None
    gate.set()


def test_an_error_in_the_run_is_kept_for_the_page():
    def work(progress, on_sample, stop):
        on_sample({"n": 1})
        raise ValueError("the control API is gone")

    live = LiveRun(work).start()
    assert live.wait(5)
    assert isinstance(live.error, ValueError) and live.result is None and live.samples == [{"n": 1}]

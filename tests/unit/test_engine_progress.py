"""Progress reporting (callback throttle, terminal bar vs plain lines) and the latency run's request plan."""

import io

from dashboard.measure.cli import ProgressPrinter
from dashboard.measure.common import Progress
from dashboard.measure.probes.latency import WRITE_KEYS, plan


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_callback_is_throttled_but_always_reports_the_end():
    calls, clock = [], FakeClock()
    report = Progress(lambda done, total, message: calls.append(done), total=100, interval_s=0.1, clock=clock)
    for done in range(1, 101):
        clock.now += 0.01  # a request every 10 ms: about one report in ten
        report(done)
    assert calls[-1] == 100
    assert 9 <= len(calls) <= 12


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_terminal_gets_a_bar_rewritten_in_place_and_a_pipe_gets_plain_lines():
    terminal = Terminal()
    bar = ProgressPrinter(terminal)
    bar(5, 10, "half")
    bar(10, 10, "done")
    text = terminal.getvalue()
    assert text.startswith("\r[###############---------------] 5/10 half")
    assert "\r[##############################] 10/10 done" in text and text.endswith("\n")

    pipe = io.StringIO()
    lines = ProgressPrinter(pipe, interval_s=3600)
    lines(1, 10, "first")
    lines(5, 10, "throttled away")
    lines(10, 10, "last")
    assert pipe.getvalue() == "progress 1/10 first\nprogress 10/10 last\n"


def test_plan_interleaves_targets_and_rotates_write_keys():
    keys = {"read": "r", "write": "w"}
    jobs = plan(["a", "b"], "read", 3, keys)
    assert [t for t, _, _ in jobs] == ["a", "b", "a", "b", "a", "b"]
    writes = plan(["a"], "write", WRITE_KEYS + 1, keys)
    assert writes[0][2] == writes[WRITE_KEYS][2] == "w0"
    mix = plan(["a"], "mix", 1000, keys, read_fraction=0.25, seed=1)
    reads = sum(op == "read" for _, op, _ in mix)
    assert 200 <= reads <= 300
    assert mix == plan(
        ["a"], "mix", 1000, keys, read_fraction=0.25, seed=1
    )  # a seed makes the plan repeatable

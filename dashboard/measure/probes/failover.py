"""Failover probe: steady reads through the global (latency-routed) endpoint while a region goes down and comes back.

``run_failover(target_set, region_to_fail=None, control=None, duration_s=30.0, rate=10.0, down_at_s=5.0,
up_at_s=None, progress=None, on_sample=None, stop=None, ...)`` returns ``(timeline, figures)``:

* ``timeline`` -- the samples (``dashboard.measure.samples`` schema, target ``global``) plus ``at_s`` (when the
  answer arrived), ``phase`` (``before`` | ``outage`` | ``after``) and ``served`` (a 2xx from the expected region).
* ``figures`` -- the failover figures, defined once in ``failover_figures`` (docs/MEASUREMENTS.md): outage start,
  moved away, recovery, moved back, failover, failback, served / not served during the outage, the router's bound;
  a figure that did not happen is None with its reason in ``figures["why"]``.

Locally, ``control`` is the local cloud's ``ControlClient`` (``backend.local.control``): the probe takes
``region_to_fail`` down at ``down_at_s`` and brings it up at ``up_at_s`` (default: half-way). On AWS there is no
control: the user triggers the outage (e.g. makes the region's health check fail) and the probe only observes.
``region_to_fail`` defaults to the region serving the latest request (the one a failover must move away from).
Setting ``stop`` ends the run early; the figures then cover what was measured (and say so).

Reads go to one key written beforehand in every region (unmeasured), so every region can answer it. Requests are
scheduled at ``rate`` per second on a few keep-alive connections, so one slow or failing request doesn't stall the
timeline; their timeout is ``request_timeout_s``.
"""

from __future__ import annotations

import threading
import time

import pandas as pd

from dashboard.measure import samples
from dashboard.measure.common import Progress, positive_float, positive_int, run_id
from dashboard.measure.errors import ProbeError
from dashboard.measure.pool import RequestPool, client_for
from dashboard.measure.probes.failover_figures import figures
from dashboard.measure.targets import GLOBAL, TargetSet
from dashboard.measure.timed_client import TimedClient


def _control_call(control, names: tuple[str, ...], region: str):
    for name in names:
        method = getattr(control, name, None)
        if callable(method):
            try:
                return method(region)
            except Exception as error:  # ControlError, URLError...: the probe reports it, never a traceback
                message = getattr(error, "message", None) or str(error) or type(error).__name__
                raise ProbeError(
                    f"the control API could not {name.replace('_', ' ')} {region}: {message}"
                ) from None
    raise ProbeError(f"the control client has none of {', '.join(names)}")


def take_down(control, region: str):
    return _control_call(control, ("region_down", "take_down", "down"), region)


def bring_up(control, region: str):
    return _control_call(control, ("region_up", "bring_up", "up"), region)


def router_bound_s(control) -> float | None:
    """The router's worst-case time to move away from a dead region (interval x threshold + TTL), if known."""
    if control is None:
        return None
    try:
        status = control.status()
    except Exception:  # an unreachable control API only means the bound is unknown
        return None
    router = status.get("router", status) if isinstance(status, dict) else {}
    interval = router.get("health_interval_s") or router.get("interval_s")
    threshold = router.get("failure_threshold") or router.get("threshold")
    ttl = router.get("dns_ttl_s") or router.get("ttl_s") or 0.0
    if not interval or not threshold:
        return None
    return float(interval) * float(threshold) + float(ttl)


class _Outage:
    """The probe's own outage: takes the region down at ``down_at_s`` and up at ``up_at_s`` (run-relative seconds).

    Without control there is nothing to do (the user causes the outage, the probe only observes)."""

    def __init__(self, control, region: str | None, down_at_s: float, up_at_s: float | None, fallback: str):
        self.control = control
        self.region = region
        self._fallback = fallback
        # (elapsed_s, what) still to do
        self._actions = [(down_at_s, "down"), (up_at_s, "up")] if control is not None else []
        self.done: dict[str, float] = {}  # what -> elapsed_s when it was done

    def wait_s(self, now: float) -> float:
        """How long the caller may wait for a row before the next action is due (at most 0.25 s)."""
        return min(max(0.0, self._actions[0][0] - now) if self._actions else 0.25, 0.25)

    def act(self, now: float, rows: list, report, epoch: float) -> None:
        while self._actions and now >= self._actions[0][0]:
            _, what = self._actions.pop(0)
            if self.region is None:  # the region serving now is the one a failover must leave
                served = [r["served_region"] for r in rows if r["ok"] and r["served_region"]]
                self.region = served[-1] if served else self._fallback
            # The outage starts (or ends) when the probe asks for it: a request answered from then on belongs to it.
            self.done[what] = time.perf_counter() - epoch
            (take_down if what == "down" else bring_up)(self.control, self.region)
            report(len(rows), f"{self.region} {what}", force=True)

    def finish(self) -> None:
        if self.control is not None and "down" in self.done and "up" not in self.done:
            bring_up(self.control, self.region)  # never leave a region down behind us


def _checked(target_set, region_to_fail, control, duration_s, rate, down_at_s, up_at_s, connections):
    """The parameters, checked (ProbeError / TargetError otherwise); returns (duration_s, rate, up_at_s, connections)."""
    if not target_set.global_url:
        raise ProbeError(
            f"{target_set.source or 'the target set'} has no global endpoint to fail over through"
        )
    if region_to_fail is not None:
        if region_to_fail == GLOBAL:
            raise ProbeError("choose a region to fail, not the global endpoint")
        target_set.require([region_to_fail])
    duration_s = positive_float("duration_s", duration_s)
    rate = positive_float("rate", rate)
    connections = positive_int("connections", connections)
    if control is not None:
        up_at_s = duration_s / 2 + down_at_s / 2 if up_at_s is None else up_at_s
        if not 0 <= down_at_s < up_at_s <= duration_s:
            raise ProbeError(
                f"need 0 <= down_at_s < up_at_s <= duration_s, got {down_at_s}, {up_at_s}, {duration_s}"
            )
    return duration_s, rate, up_at_s, connections


def run_failover(
    target_set: TargetSet,
    region_to_fail: str | None = None,
    control=None,
    duration_s: float = 30.0,
    rate: float = 10.0,
    down_at_s: float = 5.0,
    up_at_s: float | None = None,
    progress=None,
    on_sample=None,
    key_prefix: str = "probe-failover",
    request_timeout_s: float = 2.0,
    connections: int = 4,
    stop: threading.Event | None = None,
) -> tuple[pd.DataFrame, dict]:
    duration_s, rate, up_at_s, connections = _checked(
        target_set, region_to_fail, control, duration_s, rate, down_at_s, up_at_s, connections
    )
    run = run_id()
    key = f"{key_prefix}-{run}"
    for region, url in target_set.regions.items():  # every region can answer the key (unmeasured)
        with TimedClient(region, url, request_timeout_s) as client:
            client.write(key, f"{run}-{region}")
    total = int(duration_s * rate)
    report = Progress(progress, total)
    epoch = time.perf_counter()

    def send(index: int, clients: dict) -> dict:
        client = client_for(
            clients,
            GLOBAL,
            lambda: TimedClient(GLOBAL, target_set.global_url, request_timeout_s, epoch=epoch),
        )
        return client.read(key).row

    outage = _Outage(control, region_to_fail, down_at_s, up_at_s, next(iter(target_set.regions)))
    rows = []
    pool = RequestPool(
        total, connections, send, rate, epoch, stop, name="failover", join_timeout_s=request_timeout_s + 1
    )
    try:
        with pool:
            for row in pool.rows(wait_s=lambda: outage.wait_s(time.perf_counter() - epoch)):
                outage.act(time.perf_counter() - epoch, rows, report, epoch)
                if row is None:
                    continue
                rows.append(row)
                if on_sample is not None:
                    on_sample(row)
                report(len(rows), f"{len(rows)}/{total} requests")
    finally:
        outage.finish()
    end_s = time.perf_counter() - epoch
    return figures(
        samples.to_frame(rows),
        outage.region,
        outage.done.get("down"),
        outage.done.get("up"),
        end_s,
        controlled=control is not None,
        stopped=len(rows) < total,
        bound_s=router_bound_s(control),
        rate=rate,
    )

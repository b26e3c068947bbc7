"""How the checker orders a fault run's writes (``checker.py``'s docstring says why): the hidden version of an
acknowledged write, or for a direct write (no version comes back) the lower bound its call's start gives. Pure.
"""

from __future__ import annotations

from backend.local.dynamodb.versions import from_text

Version = tuple  # (ts_us, region)


def lower_bound(write: dict, clock_lag_us: int = 0) -> Version | None:
    """The least version an acknowledged write can have: its own, or for a direct write its call's start, less how
    far its region's clock ran behind during the call."""
    exact = version_of(write)
    if exact is not None:
        return exact
    return (int(write["t0_us"]) - clock_lag_us, "") if write.get("t0_us") is not None else None


def clock_lags(events: list[dict]) -> dict[tuple[str, str], int]:
    """Per direct write (process, op): how many µs its region's clock ran behind at most during the call, from the
    ``clock-offset`` faults' start and heal events (recorded before injecting and after healing)."""
    windows, open_at = [], {}
    for event in events:
        if event.get("type") == "fault" and event.get("kind") == "clock-offset":
            if event["f"] == "start":
                open_at[event["region"]] = (event["t"], min(0, int(event.get("offset_ms", 0))))
            elif event["region"] in open_at:
                started, offset = open_at.pop(event["region"])
                windows.append((event["region"], started, event["t"], offset))
    windows += [(region, started, float("inf"), offset) for region, (started, offset) in open_at.items()]
    invoked = {(e["process"], e["op"]): e["t"] for e in events if e.get("type") == "invoke" and e.get("f") == "write"}
    lags = {}
    for event in events:
        if event.get("type") == "ok" and event.get("via") == "dynamodb":
            call = invoked.get((event["process"], event["op"]), event["t"]), event["t"]
            behind = [-offset for region, start, end, offset in windows
                      if region == event["region"] and start <= call[1] and call[0] <= end]  # fmt: skip
            lags[(event["process"], event["op"])] = max(behind, default=0) * 1000
    return lags


def version_of(event_or_item: dict | None) -> Version | None:
    """The hidden version an acknowledged write or a final item carries (None: unknown or absent)."""
    text = (event_or_item or {}).get("version")
    return from_text(text) if text else None

"""The consistency figures, MREC next to MRSC: each defined here, computed here, rounded here
(docs/MEASUREMENTS.md, "Consistency").

The page, ``mrkv-probe consistency`` (table and ``--json``) and the run store all show what ``figures`` returns, so
the table, the JSON and the charts cannot disagree. Input: the probe's samples (``SAMPLE_COLUMNS``, one row per
request or per read check, ``dashboard.measure.probes.consistency``), tagged with the ``side`` they ran on (MREC or
MRSC) and the ``phase`` of the workload:

* ``write``: one row per write (``op`` write, in its ``region``) and, for each write, one row per read check in
  *another* region (``op`` eventual or strong, ``source_region`` the writer): ``stale`` when the first read there
  after the write was acknowledged did not show it; ``stale_ms`` the whole ms from the write's server moment to the
  first read that showed it (0 when the first did; NaN when none did before the timeout).
* ``conflict``: one row per write of a trial (two regions write one key at once), ``final_value`` what every
  region agreed on afterwards, ``seen_after`` whether a strongly consistent read made after the race returned it.
* ``isolation``: one row per request while ``isolated`` is cut off from the others (write, strong read, eventual
  read in every region).

Per side and region (``REGION_COLUMNS``):

* ``write_p50_ms`` / ``write_p99_ms``: of the acknowledged writes' latency in the region (0.1 ms).
* ``eventual_stale`` / ``strong_stale``: stale checks / checks of reads *in* the region of writes made elsewhere;
  ``*_stale_pct`` the same in per cent (whole); ``*_stale_p50_ms`` / ``*_stale_max_ms`` over the stale checks
  (whole ms; a check that never saw the write counts in neither, and is in ``*_never``).
* conflicting writes made by the region: ``conflict_writes``, ``conflict_acked`` (2xx), ``conflict_rejected``
  (409: not applied, try again), ``conflict_lost`` (see ``outcomes``), ``conflict_failed`` (any other answer).
* ``isolated``: this region was the one cut off; ``write_avail_pct`` / ``strong_avail_pct`` /
  ``eventual_avail_pct``: per cent (whole) of those requests in the region answered 2xx during the isolation.
"""

from __future__ import annotations

import math

import pandas as pd

SIDES = ("MREC", "MRSC")
SAMPLE_COLUMNS = [
    "side", "phase", "n", "region", "op", "key", "status", "ok", "latency_ms", "sent_ms", "answered_ms",
    "value", "version", "source_region", "stale", "stale_ms", "reads", "final_value", "seen_after", "isolated",
    "error",
]  # fmt: skip
REGION_COLUMNS = [
    "side", "region", "writes", "write_p50_ms", "write_p99_ms",
    "eventual_stale", "eventual_checks", "eventual_stale_pct", "eventual_stale_p50_ms", "eventual_stale_max_ms",
    "eventual_never", "strong_stale", "strong_checks", "strong_stale_pct", "strong_stale_p50_ms",
    "strong_stale_max_ms", "strong_never", "conflict_writes", "conflict_acked", "conflict_rejected",
    "conflict_lost", "conflict_failed", "isolated", "write_avail_pct", "strong_avail_pct", "eventual_avail_pct",
]  # fmt: skip
# The shorter table the page and the CLI print (column -> header).
TABLE = {
    "side": "side",
    "region": "region",
    "write_p50_ms": "write p50 ms",
    "write_p99_ms": "write p99 ms",
    "eventual_stale_text": "eventual reads stale (for, p50)",
    "strong_stale_text": "strong reads stale (for, p50)",
    "conflict_text": "conflicts ack/rej/lost",
    "availability_text": "cut off: write/strong/eventual ok",
}
OUTCOMES = ("kept", "superseded", "lost", "rejected", "failed")
REJECTED = 409


def one_decimal(value) -> float | None:
    """The one rounding of a latency: 0.1 ms (None for no value)."""
    return (
        None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 1)
    )


def whole(value) -> int | None:
    """The one rounding of a staleness or a percentage: whole units (None for no value)."""
    return (
        None
        if value is None or (isinstance(value, float) and math.isnan(value))
        else int(round(float(value)))
    )


def percent(part: int, total: int) -> int | None:
    return whole(100.0 * part / total) if total else None


def _two_xx(status) -> pd.Series:
    status = pd.to_numeric(status, errors="coerce").fillna(0).astype(int)
    return (status >= 200) & (status < 300)


def outcomes(conflict_writes: pd.DataFrame) -> pd.Series:
    """Each conflicting write's fate (``OUTCOMES``), from its answer, the value every region agreed on, and what the
    strongly consistent reads made once every write of the race was answered returned (``seen_after``):

    * ``rejected``: answered 409 (MRSC: a concurrent write to the key won; this one was not applied);
    * ``failed``: any other answer that is not a 2xx (or none: a timeout);
    * ``kept``: acknowledged, and its value is the final value;
    * ``lost``: acknowledged, not the final value, and yet a strongly consistent read *after* the race returned it:
      it was the key's value somewhere once every write was answered, and then was replaced though nobody wrote
      again. The client was told "stored", it was read back, and it silently is not (MREC's last writer wins);
    * ``superseded``: acknowledged, not the final value, and no read after the race returned it: overwritten in an
      order every region agrees on (a linearizable store may order two overlapping writes either way).
    """
    result = pd.Series("failed", index=conflict_writes.index, dtype=object)
    if conflict_writes.empty:
        return result
    status = pd.to_numeric(conflict_writes["status"], errors="coerce").fillna(0).astype(int)
    acked = _two_xx(status)
    final = conflict_writes["value"].astype(str) == conflict_writes["final_value"].astype(str)
    seen = conflict_writes["seen_after"].fillna(False).astype(bool)
    result[status == REJECTED] = "rejected"
    result[acked & final] = "kept"
    result[acked & ~final & seen] = "lost"
    result[acked & ~final & ~seen] = "superseded"
    return result


def _stale_figures(checks: pd.DataFrame, prefix: str) -> dict:
    stale = checks[checks["stale"].astype(bool)] if len(checks) else checks
    durations = pd.to_numeric(stale["stale_ms"], errors="coerce").dropna() if len(stale) else pd.Series([])
    return {
        f"{prefix}_stale": int(len(stale)),
        f"{prefix}_checks": int(len(checks)),
        f"{prefix}_stale_pct": percent(len(stale), len(checks)),
        f"{prefix}_stale_p50_ms": whole(durations.median()) if len(durations) else None,
        f"{prefix}_stale_max_ms": whole(durations.max()) if len(durations) else None,
        f"{prefix}_never": int(len(stale) - len(durations)),
    }


def _availability(requests: pd.DataFrame, op: str) -> int | None:
    part = requests[requests["op"] == op]
    return percent(int(_two_xx(part["status"]).sum()), len(part))


def region_row(samples: pd.DataFrame, side: str, region: str) -> dict:
    """One side's figures for one region (``REGION_COLUMNS``)."""
    mine = samples[(samples["side"] == side) & (samples["region"] == region)]
    writes = mine[(mine["phase"] == "write") & (mine["op"] == "write")]
    acked = writes[_two_xx(writes["status"])]
    latency = pd.to_numeric(acked["latency_ms"], errors="coerce").dropna()
    checks = mine[mine["phase"] == "write"]
    conflicts = mine[mine["phase"] == "conflict"]
    fates = (
        outcomes_of(samples, side).reindex(conflicts.index) if len(conflicts) else pd.Series([], dtype=object)
    )
    isolation = mine[mine["phase"] == "isolation"]
    isolated = samples.loc[(samples["side"] == side) & (samples["phase"] == "isolation"), "isolated"]
    return {
        "side": side,
        "region": region,
        "writes": int(len(writes)),
        "write_p50_ms": one_decimal(latency.quantile(0.5)) if len(latency) else None,
        "write_p99_ms": one_decimal(latency.quantile(0.99)) if len(latency) else None,
        **_stale_figures(checks[checks["op"] == "eventual"], "eventual"),
        **_stale_figures(checks[checks["op"] == "strong"], "strong"),
        "conflict_writes": int(len(conflicts)),
        "conflict_acked": int(_two_xx(conflicts["status"]).sum()),
        "conflict_rejected": int((fates == "rejected").sum()),
        "conflict_lost": int((fates == "lost").sum()),
        "conflict_failed": int((fates == "failed").sum()),
        "isolated": bool(len(isolated)) and region in set(isolated.astype(str)),
        "write_avail_pct": _availability(isolation, "write"),
        "strong_avail_pct": _availability(isolation, "strong"),
        "eventual_avail_pct": _availability(isolation, "eventual"),
    }


def outcomes_of(samples: pd.DataFrame, side: str) -> pd.Series:
    """``outcomes`` of one side's conflicting writes (indexed like ``samples``)."""
    conflicts = samples[(samples["side"] == side) & (samples["phase"] == "conflict")]
    return outcomes(conflicts)


def regions_of(samples: pd.DataFrame) -> list[str]:
    """The regions in the order they first appear (the workload's order)."""
    return list(dict.fromkeys(samples["region"].astype(str))) if len(samples) else []


def region_rows(samples: pd.DataFrame, order=None) -> list[dict]:
    """Every side × region's figures (``REGION_COLUMNS``) as plain values, MREC first, regions in ``order``
    (default: as they first appear)."""
    return [
        region_row(samples, side, region)
        for side in [s for s in SIDES if s in set(samples["side"])]
        for region in _ordered(regions_of(samples[samples["side"] == side]), order)
    ]


def region_table(samples: pd.DataFrame, order=None) -> pd.DataFrame:
    """``region_rows`` as a DataFrame."""
    return pd.DataFrame(region_rows(samples, order), columns=REGION_COLUMNS)


def _ordered(regions: list[str], order) -> list[str]:
    order = [r for r in (order or []) if r in regions]
    return order + [r for r in regions if r not in order]


def side_totals(samples: pd.DataFrame, side: str) -> dict:
    """One side over every region: the figures a one-line verdict needs."""
    mine = samples[samples["side"] == side]
    checks = mine[mine["phase"] == "write"]
    fates = outcomes_of(samples, side)
    writes = checks[checks["op"] == "write"]
    isolation = mine[mine["phase"] == "isolation"]
    isolated = isolation[isolation["region"] == isolation["isolated"]]
    return {
        "writes": int(len(writes)),
        "writes_acked": int(_two_xx(writes["status"]).sum()),
        **_stale_figures(checks[checks["op"] == "eventual"], "eventual"),
        **_stale_figures(checks[checks["op"] == "strong"], "strong"),
        "conflict_trials": int(mine.loc[mine["phase"] == "conflict", "key"].nunique()),
        **{f"conflict_{fate}": int((fates == fate).sum()) for fate in OUTCOMES},
        "isolated_region": str(isolated["region"].iloc[0]) if len(isolated) else None,
        "isolated_write_avail_pct": _availability(isolated, "write"),
        "isolated_strong_avail_pct": _availability(isolated, "strong"),
        "isolated_eventual_avail_pct": _availability(isolated, "eventual"),
    }


def figures(samples: pd.DataFrame, settings: dict | None = None) -> dict:
    """The run's figures as plain JSON values: ``settings``, ``sides`` (``side_totals`` per side), ``regions``
    (``region_table`` rows)."""
    present = [s for s in SIDES if s in set(samples["side"])] if len(samples) else []
    return {
        "settings": dict(settings or {}),
        "sides": {side: side_totals(samples, side) for side in present},
        "regions": region_rows(samples, (settings or {}).get("regions")) if len(samples) else [],
    }


def _stale(row: dict, prefix: str) -> str:
    """ "3/4 (42 ms)": stale checks of all, and for how long they stayed stale (p50, whole ms) when any was."""
    total = row[f"{prefix}_checks"]
    if not total:
        return "-"
    p50 = row[f"{prefix}_stale_p50_ms"]
    return f"{row[f'{prefix}_stale']}/{total}" + (f" ({p50} ms)" if p50 is not None else "")


def _avail(row: dict) -> str:
    values = [row.get(k) for k in ("write_avail_pct", "strong_avail_pct", "eventual_avail_pct")]
    if all(v is None for v in values):
        return "-"
    text = "/".join("-" if v is None else f"{v}%" for v in values)
    return text + (" (cut off)" if row.get("isolated") else "")


def table(figures_: dict) -> pd.DataFrame:
    """The per-region table the page and the CLI show, from ``figures`` (no figure recomputed)."""
    rows = []
    for row in figures_["regions"]:
        rows.append(
            {
                **row,
                "eventual_stale_text": _stale(row, "eventual"),
                "strong_stale_text": _stale(row, "strong"),
                "conflict_text": "-"
                if not row["conflict_writes"]
                else f"{row['conflict_acked']}/{row['conflict_rejected']}/{row['conflict_lost']}",
                "availability_text": _avail(row),
            }
        )
    shown = (
        pd.DataFrame(rows, columns=list(dict.fromkeys([*REGION_COLUMNS, *TABLE])))
        if rows
        else pd.DataFrame(columns=list(TABLE))
    )
    shown = shown[list(TABLE)].rename(columns=TABLE)
    # A figure with nothing to measure reads "-" (never "None" or "<NA>"): the numbers as the figures rounded them.
    for column in ("write p50 ms", "write p99 ms"):
        shown[column] = [_number(v, 1) for v in shown[column]]
    return shown


def _number(value, decimals: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{float(value):.{decimals}f}"


def verdict(side: str, totals: dict) -> str:
    """One side in one sentence, from ``side_totals``."""
    parts = [
        f"{side}: {totals['eventual_stale']}/{totals['eventual_checks']} eventual and "
        f"{totals['strong_stale']}/{totals['strong_checks']} strong reads elsewhere were stale",
        f"conflicting writes {totals['conflict_kept'] + totals['conflict_superseded'] + totals['conflict_lost']} "
        f"acknowledged, {totals['conflict_rejected']} rejected, {totals['conflict_lost']} lost, "
        f"{totals['conflict_superseded']} overwritten in order",
    ]
    if totals["isolated_region"]:
        parts.append(
            f"{totals['isolated_region']} cut off: writes {_pct(totals['isolated_write_avail_pct'])}, strong reads "
            f"{_pct(totals['isolated_strong_avail_pct'])}, eventual reads "
            f"{_pct(totals['isolated_eventual_avail_pct'])} answered"
        )
    return "; ".join(parts) + "."


def _pct(value) -> str:
    return "-" if value is None else f"{value}%"


def long_form(figures_: dict, columns: tuple[str, ...]) -> pd.DataFrame:
    """``figures["regions"]`` as (side, region, figure, value) rows for the charts: one row per (side, region,
    column) of ``columns`` whose value is known."""
    rows = [
        {"side": row["side"], "region": row["region"], "figure": column, "value": row[column]}
        for row in figures_["regions"]
        for column in columns
        if row.get(column) is not None
    ]
    return pd.DataFrame(rows, columns=["side", "region", "figure", "value"])


def outcome_counts(figures_: dict) -> pd.DataFrame:
    """(side, outcome, count) of the conflicting writes, from ``figures["sides"]`` (the conflicts chart)."""
    rows = [
        {"side": side, "outcome": fate, "count": int(totals.get(f"conflict_{fate}", 0))}
        for side, totals in figures_["sides"].items()
        for fate in OUTCOMES
    ]
    return pd.DataFrame(rows, columns=["side", "outcome", "count"])

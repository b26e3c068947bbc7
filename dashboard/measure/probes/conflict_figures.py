"""The conflict figures: each one defined here, rounded here (docs/MEASUREMENTS.md, "Conflict").

The page, the guided tour, ``mrkv-probe conflict`` (table and ``--json``) and the run store all read these, so the
text, the table and the chart of a trial show the same numbers.

One clock per trial: milliseconds since the **last acknowledged write committed** (its server moment, estimated from
the request's timing as in ``lag_math.server_moment``). Every read of the trial is placed on that clock at its own
server moment (``since_writes_ms``, whole ms).

* ``write_spread_ms``: the greatest minus the smallest ``writtenAt`` of the acknowledged writes (the regions' own
  clocks, whole ms): how close the race was. 0 means a tie, decided by the region name.
* ``converge_ms``: the ``since_writes_ms`` of the read that completed the first round in which every region returned
  the same item (value, region, writtenAt). A region only ever moves to a greater version, so that item is final.
* ``resolution_ms``: the time between that round and the one before it (the first round: since the writes).
* per run: ``converged`` / ``follows_lww`` (trials), ``converge_p50_ms`` (median over converged trials, rounded to
  whole ms once), ``wins`` (trials won per region).
"""

from __future__ import annotations

import math

import pandas as pd

# The columns of the per-trial table, in the order the page and the CLI show them.
TRIAL_COLUMNS = [
    "trial",
    "winner_region",
    "expected_region",
    "follows_lww",
    "losers",
    "write_spread_ms",
    "converge_ms",
    "resolution_ms",
    "error",
]
MS_COLUMNS = ("write_spread_ms", "converge_ms", "resolution_ms")


def since_ms(moment: float, origin: float) -> int:
    """The one rounding of a conflict time: whole milliseconds from ``origin`` (never negative)."""
    return max(0, round((moment - origin) * 1000.0))


def _int_or_none(value) -> int | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def trials(results: pd.DataFrame) -> list[dict]:
    """Each trial's figures as plain JSON values (ms as ints; a missing figure is None, ``error`` says why)."""
    out = []
    for row in results[TRIAL_COLUMNS].to_dict("records"):
        for column in MS_COLUMNS:
            row[column] = _int_or_none(row[column])
        row["trial"] = int(row["trial"])
        row["follows_lww"] = bool(row["follows_lww"])
        out.append(row)
    return out


def table(results: pd.DataFrame) -> pd.DataFrame:
    """The per-trial table the page and the CLI show (ms columns as whole numbers; '-' where there is none)."""
    shown = pd.DataFrame(trials(results), columns=TRIAL_COLUMNS)
    for column in MS_COLUMNS:
        shown[column] = shown[column].astype("Int64")
    return shown


def run_figures(results: pd.DataFrame) -> dict:
    """The run's figures (see the module docstring); ``why`` holds the reason for any that is None."""
    converged = results[results["converged"].astype(bool)] if len(results) else results
    figures = {
        "trials": int(len(results)),
        "converged": int(len(converged)),
        "follows_lww": int(results["follows_lww"].astype(bool).sum()) if len(results) else 0,
        "converge_p50_ms": round(float(converged["converge_ms"].median())) if len(converged) else None,
        "wins": {str(k): int(v) for k, v in converged["winner_region"].value_counts().items()},
        "why": {},
    }
    if figures["converge_p50_ms"] is None:
        figures["why"]["converge_p50_ms"] = (
            "no trial ran" if not len(results) else "no trial converged: " + str(results["error"].iloc[0])
        )
    return figures


def summary_line(figures: dict) -> str:
    """The run in one line (the page's banner and the CLI's last line), from the same figures."""
    n = figures["trials"]
    p50 = figures["converge_p50_ms"]
    agreed = (
        f"converged {figures['converged']}/{n}; agreed in {p50} ms (median)"
        if p50 is not None
        else (f"converged {figures['converged']}/{n}: {figures['why']['converge_p50_ms']}")
    )
    return f"{figures['follows_lww']}/{n} trials followed last-writer-wins; {agreed}"


def explain_winner(row, landed_together: bool = False) -> str:
    """Why this value won, in words a room can follow, from the trial's figures. ``landed_together``: the writes
    were timed to reach their regions at the same moment (``run_conflict(land_together=True)``)."""
    spread = _int_or_none(row["write_spread_ms"])
    losers = row["losers"] or "none"
    text = (
        f"**{row['winner_region']}**'s write is now the value in every region (agreed "
        f"{_int_or_none(row['converge_ms'])} ms after the writes). Last writer wins: every replica keeps the write "
        "with the greatest writtenAt, ties broken by region name, so all of them pick the same one without "
        f"talking to each other. Overwritten: {losers}."
    )
    if spread == 0:
        return text + " The writes carried the same millisecond: the region name decided."
    if landed_together:
        return text + (
            f" The writes were timed to land together (the nearer region's was held back by the difference in "
            f"distance), and were stamped {spread} ms apart: a real race, decided by jitter, not by distance."
        )
    return text + (
        f" Both writes left together, but {row['winner_region']}'s was stamped {spread} ms later: a write is "
        "stamped when it reaches its region, so the region farther from the client (or with a clock ahead) "
        "writes later, and later wins. That is the physics, not a preference."
    )


def observations(timeline: pd.DataFrame, trial: int) -> pd.DataFrame:
    """One trial's reads for the chart: ``since_writes_ms`` (the clock of ``converge_ms``), region, value."""
    part = timeline[timeline["trial"] == trial]
    return pd.DataFrame(
        {
            "since_writes_ms": part["since_writes_ms"].astype(int).to_numpy() if len(part) else [],
            "region": part["region"].to_numpy(),
            # The probe's values are "<region>:<run>:<trial>": the region that wrote it is what the audience follows.
            "value": [f"{str(v).split(':', 1)[0]}'s write" if v else "(missing)" for v in part["value"]],
        }
    )

"""The run store: every measurement run with its context, in one SQLite database (WAL mode) under ``.local/``.

Why SQLite in WAL mode (standard library): the CLI writes a run while a dashboard process reads the store, and WAL
lets one writer and many readers work at once across processes; a run's metadata is rows that SQL filters and
lists in milliseconds; a crash or Ctrl-C loses at most the samples not yet flushed. The samples themselves are
columnar: each flush of a run's frame is one Parquet-encoded chunk (pyarrow) in the ``chunks`` table, so a
million samples take ~35 MB and read back in ~0.1 s, where one SQL row per sample took 140 MB and ~1 s
(measured in the commit that introduced this module).

Schema (version ``SCHEMA_VERSION``, in ``meta``):

* ``runs``: ``id`` (10 hex digits), ``name`` (unique when set), ``kind`` (latency | lag | conflict | failover | ping |
  consistency),
  ``status`` (running | complete | stopped | failed), ``started_at`` / ``ended_at`` (ISO 8601 UTC),
  ``environment``, ``client_location``, ``network`` (copied out of the context to filter on), ``samples`` (rows of
  the run's main frame), ``error``, ``context`` (JSON, see ``runs.context``), ``summary`` (JSON, a probe's own
  figures, e.g. failover's), ``writer`` (``host:pid`` of the process recording it: a run left ``running`` by a
  process of this host that no longer exists, killed without a chance to close it, is settled as ``stopped``
  with the samples it had flushed).
* ``chunks``: ``run_id``, ``frame`` (``samples``; conflict: ``results`` and ``timeline``), ``seq``, ``rows``,
  ``data`` (a Parquet file of those rows).
"""

from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

SCHEMA_VERSION = 1
DEFAULT_PATH = Path(".local/runs.sqlite")
STORE_ENV = "MRKV_RUN_STORE"  # another store file (tests, a second workspace)
STATUSES = ("running", "complete", "stopped", "failed")
RUN_FIELDS = (
    "id", "name", "kind", "status", "started_at", "ended_at", "environment", "client_location", "network",
    "samples", "error", "context", "summary", "writer",
)  # fmt: skip

_SCHEMA = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists runs (
    id text primary key, name text unique, kind text not null, status text not null,
    started_at text not null, ended_at text, environment text, client_location text, network text,
    samples integer not null default 0, error text, context text not null, summary text, writer text
);
create index if not exists runs_started on runs (started_at);
create table if not exists chunks (
    run_id text not null references runs (id) on delete cascade, frame text not null, seq integer not null,
    rows integer not null, data blob not null, primary key (run_id, frame, seq)
);
"""


class StoreError(Exception):
    """A run that is not there, an ambiguous id, a store of another version: the message says which."""


def default_path() -> Path:
    return Path(os.environ.get(STORE_ENV) or DEFAULT_PATH)


def encode_frame(df: pd.DataFrame) -> bytes:
    """A DataFrame as a Parquet file; object columns that Arrow cannot type (mixed values) become text."""
    out = df.reset_index(drop=True)
    for column in out.columns:
        if out[column].dtype == object:
            kinds = {type(v) for v in out[column] if v is not None and not _is_nan(v)}
            if len(kinds) > 1 or (kinds and not kinds <= {str, bool, int, float}):
                out[column] = out[column].map(lambda v: None if v is None or _is_nan(v) else str(v))
    buffer = io.BytesIO()
    out.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _is_nan(value) -> bool:
    return isinstance(value, float) and value != value


def decode_frame(data: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data), columns=columns)


class RunStore:
    """The store at ``path`` (created on first use). Every method opens its own short connection, so one store
    object serves any thread, and several processes share the file."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_path()
        self._ready = False

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self._create()
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("pragma foreign_keys = on")
            con.execute("pragma synchronous = normal")
            with con:
                yield con
        finally:
            con.close()

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("pragma journal_mode = wal")
            with con:
                con.executescript(_SCHEMA)
                con.execute("insert or ignore into meta values ('schema_version', ?)", (str(SCHEMA_VERSION),))
            found = con.execute("select value from meta where key = 'schema_version'").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} is not a run store ({error})") from None
        finally:
            con.close()
        if int(found) != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} is a run store of schema version {found}; this version reads {SCHEMA_VERSION}"
            )
        self._ready = True

    # -- writing ------------------------------------------------------------------------------------------------

    def create_run(self, run: dict) -> None:
        row = {field: run.get(field) for field in RUN_FIELDS}
        row["context"] = json.dumps(run.get("context") or {}, sort_keys=True)
        row["summary"] = json.dumps(run["summary"], default=str) if run.get("summary") is not None else None
        row["samples"] = int(run.get("samples") or 0)
        with self.connect() as con:
            try:
                con.execute(
                    f"insert into runs ({', '.join(RUN_FIELDS)}) values ({', '.join('?' * len(RUN_FIELDS))})",
                    [row[field] for field in RUN_FIELDS],
                )
            except sqlite3.IntegrityError as error:
                raise StoreError(f"run {row['id']} (or its name) is already in the store: {error}") from None

    def append(self, run_id: str, frame: str, df: pd.DataFrame, counts: bool = True) -> None:
        """One more chunk of a frame; ``counts``: its rows add to the run's sample count (its main frame)."""
        if df is None or not len(df):
            return
        data = encode_frame(df)
        with self.connect() as con:
            (seq,) = con.execute(
                "select coalesce(max(seq) + 1, 0) from chunks where run_id = ? and frame = ?", (run_id, frame)
            ).fetchone()
            con.execute("insert into chunks values (?, ?, ?, ?, ?)", (run_id, frame, seq, len(df), data))
            if counts:
                con.execute("update runs set samples = samples + ? where id = ?", (len(df), run_id))

    def replace_frames(self, run_id: str, frames: dict[str, pd.DataFrame], main: str = "samples") -> None:
        """The run's final frames instead of what was streamed (sorted, with columns added at the end)."""
        encoded = {name: encode_frame(df) for name, df in frames.items() if df is not None and len(df)}
        with self.connect() as con:
            con.execute("delete from chunks where run_id = ?", (run_id,))
            for name, data in encoded.items():
                con.execute(
                    "insert into chunks values (?, ?, 0, ?, ?)", (run_id, name, len(frames[name]), data)
                )
            rows = len(frames[main]) if frames.get(main) is not None else 0
            con.execute("update runs set samples = ? where id = ?", (rows, run_id))

    def finish(self, run_id: str, status: str, ended_at: str, error: str | None = None, summary=None) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self.connect() as con:
            con.execute(
                "update runs set status = ?, ended_at = ?, error = ?, summary = coalesce(?, summary) where id = ?",
                (
                    status,
                    ended_at,
                    error,
                    json.dumps(summary, default=str) if summary is not None else None,
                    run_id,
                ),
            )

    def rename(self, reference: str, name: str | None) -> dict:
        run = self.get(reference)
        with self.connect() as con:
            try:
                con.execute("update runs set name = ? where id = ?", (name or None, run["id"]))
            except sqlite3.IntegrityError:
                raise StoreError(f"another run is already named {name!r}") from None
        return self.get(run["id"])

    def delete(self, reference: str) -> dict:
        run = self.get(reference)
        with self.connect() as con:
            con.execute("delete from runs where id = ?", (run["id"],))
        return run

    # -- reading ------------------------------------------------------------------------------------------------

    def settle_orphans(self) -> None:
        """Runs left 'running' by a process of this host that is gone become 'stopped'."""
        host = socket.gethostname()
        with self.connect() as con:
            for run_id, writer in con.execute(
                "select id, writer from runs where status = 'running'"
            ).fetchall():
                name, _, pid = (writer or "").rpartition(":")
                if name == host and pid.isdigit() and not _alive(int(pid)):
                    con.execute(
                        "update runs set status = 'stopped', error = ? where id = ?",
                        ("the process recording it ended without closing it", run_id),
                    )

    def list(self, kind=None, status=None, client_location=None, environment=None, limit=None) -> list[dict]:
        """Runs, newest first, without their samples; each filter is an exact match."""
        self.settle_orphans()
        clauses, values = [], []
        for column, value in (
            ("kind", kind), ("status", status), ("client_location", client_location), ("environment", environment),
        ):  # fmt: skip
            if value:
                clauses.append(f"{column} = ? collate nocase")
                values.append(value)
        where = f"where {' and '.join(clauses)}" if clauses else ""
        tail = f"limit {int(limit)}" if limit else ""
        with self.connect() as con:
            rows = con.execute(
                f"select {', '.join(RUN_FIELDS)} from runs {where} order by started_at desc, id {tail}",
                values,
            ).fetchall()
        return [_run(row) for row in rows]

    def get(self, reference: str) -> dict:
        """A run by its name, its id, or a unique prefix of its id."""
        reference = (reference or "").strip()
        if not reference:
            raise StoreError("no run given")
        self.settle_orphans()
        with self.connect() as con:
            rows = con.execute(
                f"select {', '.join(RUN_FIELDS)} from runs where name = ? or id = ? or id like ? order by id",
                (reference, reference, reference.replace("%", "").replace("_", "") + "%"),
            ).fetchall()
        exact = [row for row in rows if reference in (row[0], row[1])]
        rows = exact or rows
        if not rows:
            raise StoreError(f"no run {reference!r} in {self.path}")
        if len(rows) > 1:
            raise StoreError(
                f"{reference!r} matches {len(rows)} runs ({', '.join(r[0] for r in rows)}): give more"
            )
        return _run(rows[0])

    def frames(self, run_id: str) -> list[str]:
        with self.connect() as con:
            return [
                r[0] for r in con.execute("select distinct frame from chunks where run_id = ?", (run_id,))
            ]

    def frame(self, run_id: str, frame: str = "samples", columns: list[str] | None = None) -> pd.DataFrame:
        with self.connect() as con:
            blobs = [
                r[0]
                for r in con.execute(
                    "select data from chunks where run_id = ? and frame = ? order by seq", (run_id, frame)
                )
            ]
        if not blobs:
            return pd.DataFrame(columns=columns or [])
        parts = [decode_frame(blob, columns) for blob in blobs]
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())


def writer_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _run(row) -> dict:
    run = dict(zip(RUN_FIELDS, row, strict=True))
    run["context"] = json.loads(run["context"] or "{}")
    run["summary"] = json.loads(run["summary"]) if run["summary"] else None
    return run

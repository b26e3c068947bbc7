"""One run as one file, to send to a colleague: ``export_run(store, reference, path)`` and
``import_run(store, path)``; runs as tidy tables for analysis elsewhere: ``export_tables(store, references,
folder, "csv" | "parquet")``, one long table per kind and frame, every row carrying its ``run_id``, and a
``manifest.json`` with each run's context. The format is documented in ``docs/RUN-FORMAT.md``: a ZIP holding ``manifest.json``
(format name, ``FORMAT_VERSION``, the run with its context) and one Parquet file per frame of the run.

Import checks everything before it writes anything: a file that is not such a ZIP, a format of another version,
a missing or short frame, or a run id already in the store is a ``ShareError`` with a one-line reason, and the
store is left as it was.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd

from dashboard.measure import samples
from dashboard.measure.runs.recorder import KINDS, MAIN_FRAME, now_iso
from dashboard.measure.runs.store import STATUSES, RunStore, StoreError, decode_frame, encode_frame

FORMAT = "mrkv-run"
FORMAT_VERSION = 1
SUFFIX = ".mrkv-run.zip"
RUN_KEYS = (
    "id",
    "name",
    "kind",
    "status",
    "started_at",
    "ended_at",
    "samples",
    "error",
    "context",
    "summary",
)


class ShareError(Exception):
    """The file cannot be exported or imported; the message says why."""


def export_run(store: RunStore, reference: str, path: str | Path | None = None) -> Path:
    run = store.get(reference)
    target = Path(path) if path else Path(f"{run['name'] or run['id']}{SUFFIX}")
    frames = {name: store.frame(run["id"], name) for name in store.frames(run["id"])}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": now_iso(),
        "run": {key: run.get(key) for key in RUN_KEYS},
        "frames": {
            name: {"file": f"frames/{name}.parquet", "rows": len(df), "columns": [str(c) for c in df.columns]}
            for name, df in frames.items()
        },
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1, default=str))
        for name, df in frames.items():
            archive.writestr(manifest["frames"][name]["file"], encode_frame(df))
    partial.replace(target)
    return target


def export_tables(store: RunStore, references: list[str], folder: str | Path, fmt: str = "csv") -> Path:
    """``<kind>_<frame>.csv|parquet`` per kind and frame (``latency_samples``, ``conflict_results``…), rows of
    every run given, ``run_id`` first; ``manifest.json`` lists the tables and the runs with their context."""
    if fmt not in ("csv", "parquet"):
        raise ShareError(f"unknown table format {fmt!r}: csv or parquet")
    runs = [store.get(reference) for reference in references]
    tables: dict[str, list[pd.DataFrame]] = {}
    for run in runs:
        for frame in store.frames(run["id"]):
            tables.setdefault(f"{run['kind']}_{frame}", []).append(
                store.frame(run["id"], frame).assign(run_id=run["id"])
            )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"format": "mrkv-tables", "format_version": FORMAT_VERSION, "exported_at": now_iso(),
                "runs": [{key: run.get(key) for key in RUN_KEYS} for run in runs], "tables": {}}  # fmt: skip
    for name, parts in tables.items():
        table = pd.concat(parts, ignore_index=True)
        table = table[["run_id", *[c for c in table.columns if c != "run_id"]]]
        target = folder / f"{name}.{fmt}"
        if fmt == "csv":
            samples.to_csv(table, target)
        else:
            target.write_bytes(encode_frame(table))
        manifest["tables"][name] = {
            "file": target.name,
            "rows": len(table),
            "columns": [str(c) for c in table.columns],
        }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str))
    return folder


def _manifest(archive: zipfile.ZipFile, path: Path) -> dict:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError) as error:
        raise ShareError(f"{path}: no readable manifest.json ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ShareError(f"{path}: not a {FORMAT} file (format {manifest.get('format')!r})")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ShareError(f"{path}: format version {version!r}; this version reads {FORMAT_VERSION}")
    run = manifest.get("run")
    if not isinstance(run, dict) or run.get("kind") not in KINDS or run.get("status") not in STATUSES:
        raise ShareError(f"{path}: the manifest's run has no valid kind or status")
    if (
        not run.get("id")
        or not isinstance(run.get("context"), dict)
        or not isinstance(manifest.get("frames"), dict)
    ):
        raise ShareError(f"{path}: the manifest's run has no id, context or frames")
    return manifest


def read_run_file(path: str | Path) -> tuple[dict, dict]:
    """The run and its frames from an exported file, checked (ShareError otherwise)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _manifest(archive, path)
            frames = {}
            for name, entry in manifest["frames"].items():
                try:
                    frames[name] = decode_frame(archive.read(entry["file"]))
                except (
                    Exception
                ) as error:  # missing member, a corrupt Parquet file: one line, nothing written
                    raise ShareError(f"{path}: frame {name!r} is unreadable ({error})") from None
                if len(frames[name]) != entry.get("rows"):
                    raise ShareError(
                        f"{path}: frame {name!r} has {len(frames[name])} rows, the manifest says {entry.get('rows')}"
                    )
    except (OSError, zipfile.BadZipFile) as error:
        raise ShareError(f"{path}: not a readable {FORMAT} file ({error})") from None
    return manifest["run"], frames


def import_run(store: RunStore, path: str | Path, name: str | None = None) -> dict:
    run, frames = read_run_file(path)
    try:
        store.get(run["id"])
    except StoreError:
        pass
    else:
        raise ShareError(f"run {run['id']} is already in {store.path}")
    context = run["context"]
    row = {
        **run,
        "name": name or run.get("name"),
        "environment": context.get("environment"),
        "client_location": (context.get("client_location") or {}).get("name"),
        "network": (context.get("network") or {}).get("profile"),
        "samples": 0,
    }
    try:
        store.create_run(row)
    except StoreError as error:
        raise ShareError(str(error)) from None
    store.replace_frames(run["id"], frames, main=MAIN_FRAME[run["kind"]])
    return store.get(run["id"])

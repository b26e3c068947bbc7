"""Every test gets its own run store (``$MRKV_RUN_STORE``), inherited by the processes it starts: a test never
writes into a developer's ``.local/runs.sqlite``."""

import pytest


@pytest.fixture(autouse=True)
def isolated_run_store(monkeypatch, tmp_path):
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("MRKV_RUN_STORE", str(path))
    return path

"""docs/ARCHITECTURE.md stays true: every repository path it names exists (a newcomer follows them in one step)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL = {p.name for p in ROOT.iterdir() if not p.name.startswith(".")}


def named_paths(text: str) -> set[str]:
    """Backticked tokens that name a file or folder of the repository (``backend/local/web/app.py``, ``tests/``)."""
    found = set()
    for token in re.findall(r"`([^`\s]+)`", text):
        token = token.split("::")[0].split(":")[0].rstrip(",.")
        first = token.split("/")[0]
        if "/" in token and first in TOP_LEVEL and re.fullmatch(r"[\w./*-]+", token):
            found.add(token)
    return found


def test_every_path_in_the_architecture_page_exists():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    paths = named_paths(text)
    assert len(paths) >= 30, sorted(paths)  # not vacuous: the page names the file of every hop
    missing = sorted(p for p in paths if not any(ROOT.glob(p)))
    assert missing == [], f"docs/ARCHITECTURE.md names paths that do not exist: {missing}"


def test_the_path_finder_reads_backticked_paths():
    assert named_paths("see `backend/local/web/app.py`, `tests/` and `make test`") == {
        "backend/local/web/app.py",
        "tests/",
    }


def test_every_test_the_fidelity_page_cites_exists():
    """docs/FIDELITY.md: each behaviour's proof is a test file (and function) that is really there."""
    text = (ROOT / "docs" / "FIDELITY.md").read_text()
    cited = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", text)
    assert len(cited) >= 15, cited
    for path, function in cited:
        assert (ROOT / path).exists(), path
        if function:
            assert f"def {function}(" in (ROOT / path).read_text(), f"{path}::{function}"
    functions = re.findall(r"`(test_\w+)`", text)  # bare names refer to the file named just before them
    assert functions and all(any(f"def {name}(" in p.read_text() for p in (ROOT / "tests").rglob("test_*.py")) for name in functions)

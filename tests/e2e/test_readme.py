"""The README runs: every shell block in it is executed, in order, against a fresh local cloud (issue 13).

The blocks run as a reader would run them, with ``bash -e -o pipefail``, in a scratch directory where the local
cloud was started with ``mrkv-local up`` (so ``.local/endpoints.json`` is there) and where ``.venv/bin/activate``
puts ``mrkv-local``, ``mrkv-probe`` and ``python`` of *this checkout* on PATH (what ``make install`` does for a
clone). ``mrkv-probe ping`` talks to a local stand-in of AWS's public endpoints (no internet here).

Directives, as HTML comments on the lines just above a block (invisible on GitHub):
``<!-- doctest: skip: why -->`` (never silently: the reason is required), ``<!-- doctest: needs: TOOL -->`` (skipped,
with the reason, when TOOL is not installed), ``<!-- doctest: expect: TEXT -->`` (TEXT must be in the output),
``<!-- doctest: setup: COMMAND -->`` (run before a python block, as its comment tells the reader). A block whose
lines start with ``$ `` is a transcript: each command runs and its JSON answer must have the keys and values shown
(``writtenAt`` is a timestamp: only its presence is checked).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ping_stand_in import PingStandIn

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\s*$")
DIRECTIVE = re.compile(r"^<!-- doctest: (\w+): (.*) -->$")
BLOCK_TIMEOUT_S = 180


@dataclass
class Block:
    line: int
    language: str
    text: str
    directives: dict[str, list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"line{self.line}-{self.language}"


def readme_blocks(text: str) -> list[Block]:
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match and match.group(1):
            directives: dict[str, list[str]] = {}
            j = i - 1
            while j >= 0 and DIRECTIVE.match(lines[j]):
                name, value = DIRECTIVE.match(lines[j]).groups()
                directives.setdefault(name, []).append(value)
                j -= 1
            end = next(k for k in range(i + 1, len(lines)) if lines[k].startswith("```"))
            blocks.append(Block(i + 1, match.group(1), "\n".join(lines[i + 1 : end]), directives))
            i = end
        i += 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_blocks_and_every_skip_says_why():
    assert len(BLOCKS) >= 8
    skipped = [b for b in BLOCKS if "skip" in b.directives]
    assert all(len(reason) > 20 for b in skipped for reason in b.directives["skip"])
    assert len(skipped) <= 3, [b.id for b in skipped]  # most of the README really runs
    assert all(b.language in ("bash", "python") for b in BLOCKS)


def _shims(folder: Path) -> Path:
    """``.venv/bin/activate`` putting this checkout's commands on PATH, as ``make install`` does for a clone."""
    shim = folder / "shims"
    shim.mkdir()
    for name, module in (("mrkv-local", "backend.local"), ("mrkv-probe", "dashboard.measure")):
        (shim / name).write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n')
    (shim / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    for script in shim.iterdir():
        script.chmod(0o755)
    venv = folder / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "activate").write_text(f'export PATH="{shim}:$PATH"\n')
    return shim


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """A scratch directory with a fresh local cloud (started as the README says) and the ping stand-in."""
    folder = tmp_path_factory.mktemp("reader")
    shim = _shims(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONPATH=str(ROOT), MRKV_RUN_STORE=str(folder / "runs.sqlite"))
    env["PATH"] = os.pathsep.join([str(shim), str(Path(sys.executable).parent), env.get("PATH", "")])
    log = open(folder / "cloud.log", "wb")  # noqa: SIM115 - closed below
    cloud = subprocess.Popen(
        [sys.executable, "-m", "backend.local", "up", "--port", "0"],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while b"Ctrl-C stops everything" not in (folder / "cloud.log").read_bytes():
            assert cloud.poll() is None and time.monotonic() < deadline, (folder / "cloud.log").read_text()
            time.sleep(0.2)
        with PingStandIn(folder, {"us-east-1": 20.0, "eu-central-1": 5.0}) as ping:
            env.update(MRKV_PING_URL_TEMPLATE=ping.template, SSL_CERT_FILE=str(ping.cafile))
            yield folder, env
    finally:
        cloud.send_signal(signal.SIGINT)  # Ctrl-C, as the reader stops it
        try:
            cloud.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cloud.kill()
            cloud.wait()
        log.close()


def _bash(script: str, folder: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
    )


def _check_transcript(block: Block, folder: Path, env: dict) -> None:
    lines = block.text.splitlines()
    base = "$(jq -r '.regions[\"us-west-2\"]' .local/endpoints.json)/"
    for i, line in enumerate(lines):
        if not line.startswith("$ "):
            continue
        shown = json.loads(lines[i + 1])
        done = _bash(f'BASE_URL="{base}"; {line[2:]}', folder, env)
        assert done.returncode == 0, done.stderr
        got = json.loads(done.stdout)
        assert set(got) == set(shown), (line, got)
        assert {k: v for k, v in got.items() if k != "writtenAt"} == {
            k: v for k, v in shown.items() if k != "writtenAt"
        }, line


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_block_runs(block: Block, reader):
    if "skip" in block.directives:
        pytest.skip(block.directives["skip"][0])
    folder, env = reader
    for tool in block.directives.get("needs", []):
        if shutil.which(tool, path=env["PATH"]) is None:
            pytest.skip(f"{tool} is not installed (the README's block needs it)")
    if block.text.lstrip().startswith("$ "):
        _check_transcript(block, folder, env)
        return
    script = block.text
    if block.language == "python":
        script = (
            "\n".join(block.directives.get("setup", [])) + f"\npython - <<'PYTHON'\n{block.text}\nPYTHON\n"
        )
    done = _bash(script, folder, env)
    assert done.returncode == 0, f"README line {block.line}:\n{done.stdout}\n{done.stderr}"
    for expected in block.directives.get("expect", []):
        for part in expected.split(", "):
            assert part in done.stdout, f"README line {block.line}: {part!r} not in\n{done.stdout}"

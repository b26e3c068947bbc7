"""The engine (dashboard.measure) never imports Streamlit, directly or through another module: the CLI starts
fast and runs where Streamlit is not installed, and the pages stay the only drawing layer."""

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import dashboard.measure

ROOT = Path(__file__).resolve().parents[2]


def engine_modules() -> list[str]:
    names = ["dashboard.measure"]
    for module in pkgutil.walk_packages(dashboard.measure.__path__, "dashboard.measure."):
        if not module.name.endswith("__main__"):  # running it would run the CLI
            names.append(module.name)
    return sorted(names)


def test_every_engine_module_is_found():
    names = engine_modules()
    for expected in ("dashboard.measure.cli", "dashboard.measure.probes.latency", "dashboard.measure.tour"):
        assert expected in names


def test_no_engine_module_imports_streamlit():
    # A fresh interpreter: in this one, other tests may have imported Streamlit already.
    script = (
        "import importlib, json, sys\n"
        f"names = {engine_modules()!r}\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps({'streamlit': sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit'),"
        " 'plotly': 'plotly' in sys.modules}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["streamlit"] == []
    assert not loaded["plotly"]  # the engine names charts, it never draws them


def test_the_engine_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.measure", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "latency|lag|conflict|failover" in done.stdout

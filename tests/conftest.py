import sys
from pathlib import Path

# Tests import the project's packages (backend, dashboard) and the helpers next to this file.
ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

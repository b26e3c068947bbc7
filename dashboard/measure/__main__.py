"""``python -m dashboard.measure``: the measurement engine's command line (``dashboard.measure.cli``)."""

import sys

from dashboard.measure.cli import main

sys.exit(main())

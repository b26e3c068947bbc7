"""``python -m backend.local.replication --config FILE``: the replicator as a process."""

import sys

from backend.local.replication.replicator import main

sys.exit(main())

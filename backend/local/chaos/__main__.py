import sys

from backend.local.chaos.runner import main

sys.exit(main())

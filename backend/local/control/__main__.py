import sys

from backend.local.control.process import main

sys.exit(main())

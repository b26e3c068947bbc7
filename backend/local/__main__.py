from backend.local.cli import main

raise SystemExit(main(prog="python -m backend.local"))

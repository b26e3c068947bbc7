"""``python -m backend.local.replication --config FILE``: the replicator as a process (see ``replicator.py``)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading

from backend.local.replication.admin import AdminServer
from backend.local.replication.config import ConfigError, load_config
from backend.local.replication.fleet import Fleet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend.local.replication",
        description="The local global-tables replicator: reads every region's DynamoDB stream and applies the "
        "changes elsewhere.",
    )
    parser.add_argument("--config", required=True, help="JSON config file")
    parser.add_argument("--log-level", default=os.environ.get("REPLICATOR_LOG_LEVEL", "WARNING"))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"replicator: {error}", file=sys.stderr)
        return 2
    replicator = Fleet(config)  # one replicator per global table; the admin API drives them all
    admin = AdminServer(replicator, config["admin_host"], int(config["admin_port"]))
    stopped = threading.Event()

    def on_signal(signum, frame):
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    replicator.start()
    admin.start()
    print(json.dumps({"ready": True, "admin": admin.address}), flush=True)
    while not stopped.wait(0.5):
        pass
    admin.server.close()  # no new admin calls; the ones in flight die with the process
    replicator.stop()  # bounded (3 s), then saves the state file
    # Exit now: the interpreter's teardown would join worker threads still stuck in a call to a region that died
    # with the launcher (up to the wire client's 10 s timeout), and a killed launcher's children must go promptly.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())

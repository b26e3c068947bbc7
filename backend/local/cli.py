"""The launcher, ``mrkv-local`` (or ``python -m backend.local``): ``up`` runs the local cloud in the foreground
until Ctrl-C or SIGTERM; ``env REGION`` prints the ``export`` lines that point boto3 and the AWS CLI at one region.

mrkv-local up [--regions us-west-2,eu-central-1] [--host 127.0.0.1] [--port 0]
              [--network realistic|none] [--client-location Seattle|us-east-1|lat,lon|ping:FILE]
              [--network-seed N] [--replication-delay auto|<ms>] [--endpoints-file .local/endpoints.json]
              [--state-dir .local/state] [--health-interval 1] [--failure-threshold 2] [--dns-ttl 0]
              [--consistency eventual|strong] [--witness REGION]
mrkv-local env REGION [--endpoints-file .local/endpoints.json]      (use: eval "$(mrkv-local env us-west-2)")
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from backend.local import network, shell_env
from backend.local.cloud import DEFAULT_REGIONS, LocalCloud, LocalCloudError, check_regions
from backend.local.contracts import DEFAULT_ENDPOINTS_FILE, Endpoints, EndpointsFileError


def _regions(text: str) -> list[str]:
    try:
        regions = check_regions(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if len(regions) < 2:
        raise argparse.ArgumentTypeError("a multi-region cloud needs at least 2 regions")
    return regions


def _location(text: str) -> str:
    try:
        network.parse_location(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return network.absolute_location(text)


def _delay(text: str):
    if text == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or milliseconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the replication delay cannot be negative")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if value != 0 and not 1024 <= value <= 65000:
        raise argparse.ArgumentTypeError("the first port must be 0 (free ports) or in [1024, 65000]")
    return value


def _host(text: str) -> str:
    if text not in ("127.0.0.1", "localhost"):
        raise argparse.ArgumentTypeError("the local cloud binds loopback only: use 127.0.0.1")
    return "127.0.0.1"


def parser(prog: str = "mrkv-local") -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=prog, description="The local multi-region cloud.")
    commands = top.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "up", help="run every region, the replicator, the geo router and the control API"
    )
    up.add_argument(
        "--regions",
        type=_regions,
        default=list(DEFAULT_REGIONS),
        help="comma-separated AWS region codes (default: %(default)s)",
    )
    up.add_argument("--host", type=_host, default="127.0.0.1")
    up.add_argument("--port", type=_port, default=0, help="first port; 0 = free ports (default)")
    up.add_argument("--network", choices=network.NETWORK_MODES, default="realistic")
    up.add_argument(
        "--client-location",
        type=_location,
        default=network.DEFAULT_CLIENT_LOCATION,
        help=f"a city ({', '.join(sorted(network.CITIES))}), a region code (a client inside that region, e.g."
        " us-east-1), 'lat,lon', or ping:FILE (your own network, measured by mrkv-probe ping)",
    )
    up.add_argument(
        "--network-seed",
        type=int,
        default=None,
        help="seed the network model's delay samples: the same delays in every run (a reproducible demo)",
    )
    up.add_argument(
        "--replication-delay", type=_delay, default="auto", help="'auto' (network model) or milliseconds"
    )
    up.add_argument(
        "--consistency",
        choices=("eventual", "strong"),
        default="eventual",
        help="the global table's multi-Region consistency: eventual (MREC, default) or strong (MRSC: exactly three "
        "regions of one set, e.g. us-east-1,us-east-2,us-west-2, or two plus --witness)",
    )
    up.add_argument("--witness", default=None, help="MRSC with two replicas: the witness region (same region set)")
    up.add_argument("--endpoints-file", type=Path, default=DEFAULT_ENDPOINTS_FILE)
    up.add_argument("--state-dir", type=Path, default=Path(".local/state"))
    up.add_argument(
        "--health-interval", type=float, default=1.0, help="seconds between health checks (Route 53: 30)"
    )
    up.add_argument(
        "--failure-threshold", type=int, default=2, help="failed checks before failover (Route 53: 3)"
    )
    up.add_argument(
        "--dns-ttl", type=float, default=0.0, help="seconds a routing answer is cached (default 0)"
    )
    env = commands.add_parser(
        "env",
        help="print the export lines that point boto3 and the AWS CLI at one region (eval \"$(mrkv-local env R)\")",
    )
    env.add_argument("region", help="a region of the running cloud, e.g. us-west-2")
    env.add_argument("--endpoints-file", type=Path, default=DEFAULT_ENDPOINTS_FILE)
    return top


def env(args) -> int:
    try:
        endpoints = Endpoints.read(args.endpoints_file)
    except EndpointsFileError as error:
        print(f"error: {error} (start the cloud with: mrkv-local up)", file=sys.stderr)
        return 1
    try:
        environment = shell_env.variables(endpoints, args.region)
    except shell_env.UnknownRegion as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not shell_env.answers(environment["AWS_ENDPOINT_URL_DYNAMODB"]):
        print(
            f"warning: nothing answers at {environment['AWS_ENDPOINT_URL_DYNAMODB']}: {args.endpoints_file} may be"
            " from a cloud that has stopped (start one with: mrkv-local up)",
            file=sys.stderr,
        )
    print(f"# region {args.region} of the local cloud ({args.endpoints_file}), for boto3 and the AWS CLI")
    print(shell_env.export_lines(environment))
    return 0


def up(args) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        cloud = LocalCloud(
            regions=args.regions,
            network=args.network,
            client_location=args.client_location,
            network_seed=args.network_seed,
            port=args.port,
            host=args.host,
            endpoints_file=args.endpoints_file,
            replication_delay=args.replication_delay,
            state_dir=args.state_dir,
            health_interval_s=args.health_interval,
            failure_threshold=args.failure_threshold,
            dns_ttl_s=args.dns_ttl,
            consistency=args.consistency,
            witness=args.witness,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        cloud.start()
    except (LocalCloudError, OSError) as error:
        print(f"error: the local cloud did not start: {error}", file=sys.stderr)
        return 1
    try:
        print(cloud.describe())
        print(
            f"\nendpoints file: {args.endpoints_file}   ready in {cloud.startup_s:.1f} s   Ctrl-C stops everything",
            flush=True,
        )
        while not stop.wait(0.5):
            dead = [name for name, child in cloud.children.items() if child.popen.poll() is not None]
            if dead == ["replicator"]:  # its checkpoints make a restart lose and double-apply nothing
                print(
                    "the replicator stopped; restarting it from its checkpoints", file=sys.stderr, flush=True
                )
                cloud.restart_replicator()
            elif dead:
                print(f"error: {', '.join(dead)} stopped unexpectedly; stopping the cloud", file=sys.stderr)
                return 1
    finally:
        cloud.stop()
        print("stopped", flush=True)
    return 0


def main(argv: list[str] | None = None, prog: str = "mrkv-local") -> int:
    """The console script ``mrkv-local``; ``argv`` defaults to the command line. Bad arguments exit with status 2
    (argparse's SystemExit), as they do for any command."""
    args = parser(prog).parse_args(argv)
    if args.command == "up":
        return up(args)
    if args.command == "env":
        return env(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""``mrkv-local env REGION``: the shell lines that point boto3 and the AWS CLI at one region of the local cloud.

    eval "$(mrkv-local env us-west-2)"
    aws dynamodb scan --table-name keyvalues          # no --endpoint-url needed

boto3 and the AWS CLI (v1 from 1.29, v2 from 2.13) read a service's endpoint from ``AWS_ENDPOINT_URL_<SERVICE>``
(AWS SDKs and Tools Reference Guide, "Service-specific endpoints"); DynamoDB Streams has an endpoint of its own on
AWS, so it gets its own variable. The credentials are placeholders: the local cloud accepts any, but boto3 refuses
to sign without some.
"""

from __future__ import annotations

import shlex
import socket
from urllib.parse import urlsplit

from backend.local.contracts import Endpoints

PLACEHOLDER_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


class UnknownRegion(ValueError):
    """The region is not one of the running cloud's; the message names the ones it has."""


def variables(endpoints: Endpoints, region: str) -> dict[str, str]:
    """The environment that points the SDKs at ``region`` of the cloud described by ``endpoints``."""
    if region not in endpoints.dynamodb:
        have = ", ".join(sorted(endpoints.dynamodb)) or "none"
        raise UnknownRegion(f"the local cloud has no region {region!r} (its regions: {have})")
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoints.dynamodb[region],
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": endpoints.streams.get(region, endpoints.dynamodb[region]),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        **PLACEHOLDER_CREDENTIALS,
    }


def export_lines(environment: dict[str, str]) -> str:
    """POSIX shell ``export`` lines, quoted for ``eval``."""
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in environment.items())


def answers(url: str, timeout_s: float = 0.5) -> bool:
    """Whether something accepts connections at ``url`` (a stale endpoints file names ports nobody listens on)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout_s):
            return True
    except OSError:
        return False

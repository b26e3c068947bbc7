"""The typed contracts that the local cloud's processes and its clients share: one definition each.

- ``TABLE_NAME``: the application's table, as ``serverless.yml`` names it (``KEY_TABLE``) on AWS.
- ``Endpoints``: the endpoints file (``.local/endpoints.json``) that ``mrkv-local up`` writes and every client reads
  (the dashboard, ``mrkv-probe``, the tests, a user's boto3 or AWS CLI).

Plain data only: nothing here starts a process or opens a socket, so the engine can import it without the local
cloud's dependencies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

TABLE_NAME = "keyvalues"
# The hidden last-writer-wins version ("ts_us:region") a write through the local API got, answered with the write.
# AWS sends nothing like it; fault runs and the conflict probe order writes by it (backend/local/dynamodb/versions.py).
ITEM_VERSION_HEADER = "X-Mrkv-Item-Version"
DEFAULT_ENDPOINTS_FILE = Path(".local/endpoints.json")


class EndpointsFileError(ValueError):
    """The endpoints file is missing, unreadable or not in the documented shape; the message says which."""


@dataclass(frozen=True)
class Endpoints:
    """Where each part of a running local cloud answers (all URLs on 127.0.0.1 or ::1).

    ``regions``: region → API Gateway stage URL (``http://127.0.0.1:P/dev``); ``global_url``: the geo-routed
    endpoint; ``dynamodb``: region → DynamoDB endpoint; ``streams``: region → DynamoDB Streams endpoint (boto3's
    ``AWS_ENDPOINT_URL_DYNAMODB_STREAMS``; locally the same server as DynamoDB, which serves both APIs, as
    ``streams.dynamodb.<region>.amazonaws.com`` is a separate endpoint on AWS); ``control``: the control API;
    ``replicator``: the replicator's admin API, or None with a single region; ``consistency``: the table's
    multi-Region consistency, "eventual" (MREC) or "strong" (MRSC); ``witness``: an MRSC table's witness region (no
    endpoint: it serves no client), or None.
    """

    regions: dict[str, str]
    global_url: str | None = None
    dynamodb: dict[str, str] = field(default_factory=dict)
    streams: dict[str, str] = field(default_factory=dict)
    control: str | None = None
    replicator: str | None = None
    consistency: str = "eventual"
    witness: str | None = None

    def to_json(self) -> dict:
        return {
            "regions": dict(self.regions),
            "global": self.global_url,
            "dynamodb": dict(self.dynamodb),
            "streams": dict(self.streams),
            "control": self.control,
            "replicator": self.replicator,
            "consistency": self.consistency,
            "witness": self.witness,
        }

    @classmethod
    def from_json(cls, data, where: str = "endpoints") -> Endpoints:
        if not isinstance(data, dict):
            raise EndpointsFileError(f"{where}: expected a JSON object")
        regions = data.get("regions")
        if not isinstance(regions, dict) or not regions:
            raise EndpointsFileError(f'{where}: "regions" must map region names to URLs')
        for name, url in regions.items():
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise EndpointsFileError(f'{where}: the URL of region {name} must be http(s), not {url!r}')
        return cls(
            regions=dict(regions),
            global_url=data.get("global"),
            dynamodb=dict(data.get("dynamodb") or {}),
            # files written before the streams endpoint was named: the DynamoDB server serves the streams API too
            streams=dict(data.get("streams") or data.get("dynamodb") or {}),
            control=data.get("control"),
            replicator=data.get("replicator"),
            consistency=data.get("consistency") or "eventual",
            witness=data.get("witness"),
        )

    def write(self, path: str | Path) -> None:
        """Atomically (tmp + rename): a reader never sees half a file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        temporary.replace(path)

    @classmethod
    def read(cls, path: str | Path = DEFAULT_ENDPOINTS_FILE) -> Endpoints:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as error:
            raise EndpointsFileError(f"endpoints file {path} cannot be read: {error}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise EndpointsFileError(f"endpoints file {path} is not valid JSON: {error}") from None
        return cls.from_json(data, f"endpoints file {path}")

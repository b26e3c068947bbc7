"""Where the probes send their requests: a *target set* of regional base URLs plus an optional global URL.

Public API (stable; the Streamlit pages use it):

* ``TargetSet(regions, global_url=None, control_url=None, source="")`` – ``regions`` maps a region name to the
  base URL of its API (stage included, e.g. ``http://127.0.0.1:8001/dev`` or
  ``https://abc.execute-api.us-west-2.amazonaws.com/dev``); ``global_url`` is the latency-routed URL (the local
  geo router, or the custom domain on AWS); ``control_url`` is the local cloud's control API (``None`` on AWS);
  ``source`` says where the set came from, for messages. ``names()`` lists the targets (regions, then ``"global"``),
  ``url(name)`` gives a target's base URL.
* ``load_endpoints_file(path)`` – the local cloud's endpoints file (``.local/endpoints.json``)::

      {"regions": {"us-west-2": "http://127.0.0.1:P/dev", ...}, "global": "http://127.0.0.1:P",
       "dynamodb": {"us-west-2": "http://127.0.0.1:P", ...}, "control": "http://127.0.0.1:P"}

* ``load_targets_file(path)`` – a user's targets file of the same shape, JSON (``.json``) or TOML (``.toml``)::

      # targets.toml
      global = "https://keyvalue.example.com"
      [regions]
      us-west-2 = "https://abc123.execute-api.us-west-2.amazonaws.com/dev"
      eu-central-1 = "https://def456.execute-api.eu-central-1.amazonaws.com/dev"

  Only ``regions`` is required; ``global``, ``control`` and ``dynamodb`` are optional.
* ``load_cloudformation(stack_name, regions, session=None)`` – reads each region's stack outputs with boto3 (the
  automated form of the walkthrough's ``describe-stacks`` script): ``ServiceEndpoint`` gives the regional URL,
  ``CustomDomainUrl`` (present when the stack was deployed with a custom domain) the global one.
* ``load_targets(endpoints_file=None, targets_file=None, stack=None, regions=None, session=None)`` – picks one of the
  above, as the CLI's options do.
* ``check_reachable(target_set, timeout_s=3)`` – raises ``TargetError`` naming every URL that does not answer.
* ``TargetError`` – a malformed or unreachable source; its message names the file, field or URL that is wrong.
"""

from __future__ import annotations

import json
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from backend.local.contracts import DEFAULT_ENDPOINTS_FILE
from dashboard.measure.errors import TargetError

GLOBAL = "global"


@dataclass(frozen=True)
class TargetSet:
    regions: dict[str, str]
    global_url: str | None = None
    control_url: str | None = None
    source: str = ""
    dynamodb: dict[str, str] = field(default_factory=dict)

    def names(self, include_global: bool = True) -> list[str]:
        """Target names: every region, then ``"global"`` when a global URL is known."""
        names = list(self.regions)
        if include_global and self.global_url:
            names.append(GLOBAL)
        return names

    def url(self, name: str) -> str:
        if name == GLOBAL:
            if not self.global_url:
                raise TargetError(f"{self.source or 'the target set'} has no global URL")
            return self.global_url
        try:
            return self.regions[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise TargetError(
                f"unknown target '{name}' in {self.source or 'the target set'} (known: {known})"
            ) from None

    def require(self, names) -> list[str]:
        """Checks that every name is a known target; returns the list (raises TargetError otherwise)."""
        names = list(names)
        for name in names:
            self.url(name)
        return names

    @property
    def is_local(self) -> bool:
        return self.control_url is not None


def _check_url(url, where: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise TargetError(f"{where}: expected a URL string, got {url!r}")
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"{where}: '{url}' is not an http(s) URL")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise TargetError(f"{where}: '{url}' has an invalid port") from None
    return url


def from_mapping(data, source: str) -> TargetSet:
    """Builds a TargetSet from the endpoints-file shape; every problem names ``source`` and the field."""
    if not isinstance(data, dict):
        raise TargetError(f"{source}: expected an object with a 'regions' field, got {type(data).__name__}")
    regions = data.get("regions")
    if not isinstance(regions, dict) or not regions:
        raise TargetError(f"{source}: 'regions' must be a non-empty object of region name -> base URL")
    checked = {}
    for name, url in regions.items():
        if not isinstance(name, str) or not name.strip() or name == GLOBAL:
            raise TargetError(f"{source}: invalid region name {name!r} in 'regions'")
        checked[name.strip()] = _check_url(url, f"{source}: regions.{name}")
    global_url = data.get("global")
    if global_url is not None:
        global_url = _check_url(global_url, f"{source}: global")
    control_url = data.get("control")
    if control_url is not None:
        control_url = _check_url(control_url, f"{source}: control")
    dynamodb = data.get("dynamodb") or {}
    if not isinstance(dynamodb, dict):
        raise TargetError(f"{source}: 'dynamodb' must be an object of region name -> endpoint URL")
    dynamodb = {name: _check_url(url, f"{source}: dynamodb.{name}") for name, url in dynamodb.items()}
    return TargetSet(checked, global_url, control_url, source, dynamodb)


# The next step when the local cloud is not there, in every message that can mean it.
START_HINT = (
    "the local cloud is not running: start it with `make up` (or `mrkv-local up`), or let `make run` start it"
)


def _read_text(path, what: str) -> tuple[str, Path]:
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8"), path
    except FileNotFoundError:
        hint = f": {START_HINT}" if what == "endpoints file" else ""
        raise TargetError(f"{what} {path} does not exist{hint}") from None
    except IsADirectoryError:
        raise TargetError(f"{what} {path} is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise TargetError(f"{what} {path} cannot be read: {error}") from None


def load_endpoints_file(path=DEFAULT_ENDPOINTS_FILE) -> TargetSet:
    """The local cloud's endpoints file (written by ``python -m backend.local up``)."""
    text, path = _read_text(path, "endpoints file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TargetError(f"endpoints file {path} is not valid JSON: {error}") from None
    return from_mapping(data, f"endpoints file {path}")


def load_targets_file(path) -> TargetSet:
    """A user's targets file: JSON, or TOML when the name ends in ``.toml`` (same fields as the endpoints file)."""
    text, path = _read_text(path, "targets file")
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise TargetError(f"targets file {path} is not valid TOML: {error}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise TargetError(f"targets file {path} is not valid JSON: {error}") from None
    return from_mapping(data, f"targets file {path}")


def load_cloudformation(stack_name: str, regions, session=None) -> TargetSet:
    """Reads ``ServiceEndpoint`` (and ``CustomDomainUrl`` if any) from the stack in each region."""
    from dashboard.measure import aws  # boto3 and pandas only when this source is used

    regions = [r.strip() for r in (regions.split(",") if isinstance(regions, str) else regions) if r.strip()]
    if not stack_name or not regions:
        raise TargetError("CloudFormation source needs a stack name and at least one region")
    urls, global_url = {}, None
    for region in regions:
        outputs = aws.stack_outputs(stack_name, region, session=session)
        where = f"stack {stack_name} in {region}"
        if "ServiceEndpoint" not in outputs:
            raise TargetError(
                f"{where} has no ServiceEndpoint output (outputs: {', '.join(outputs) or 'none'})"
            )
        urls[region] = _check_url(outputs["ServiceEndpoint"], f"{where}: ServiceEndpoint")
        if outputs.get("CustomDomainUrl") and global_url is None:
            global_url = _check_url(outputs["CustomDomainUrl"], f"{where}: CustomDomainUrl")
    return TargetSet(urls, global_url, None, f"CloudFormation stack {stack_name} ({', '.join(regions)})")


def load_targets(endpoints_file=None, targets_file=None, stack=None, regions=None, session=None) -> TargetSet:
    """One source, in the CLI's order of precedence: stack, then targets file, then endpoints file (default)."""
    if stack:
        return load_cloudformation(stack, regions or [], session=session)
    if targets_file:
        return load_targets_file(targets_file)
    return load_endpoints_file(endpoints_file or DEFAULT_ENDPOINTS_FILE)


def check_reachable(target_set: TargetSet, timeout_s: float = 3.0, names=None) -> None:
    """GETs ``/_health`` on every target; raises TargetError listing each URL that gives no HTTP answer at all.

    Any HTTP status counts as an answer (a region that is down answers 5xx, which is a result, not a bad source).
    """
    failures = []
    for name in names or target_set.names():
        url = target_set.url(name) + "/_health"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                response.read()
        except urllib.error.HTTPError:
            continue
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            failures.append(f"{name} ({url}): {reason}")
    if failures:
        local = target_set.control_url is not None or "endpoints file" in (target_set.source or "")
        hint = f" ({START_HINT})" if local else ""
        raise TargetError(f"no answer from {target_set.source or 'targets'}{hint}: " + "; ".join(failures))

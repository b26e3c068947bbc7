"""Delete every item of a DynamoDB table: the walkthrough's scan | jq | xargs delete-item script, done safely.

    python -m backend.tools.clear_table --table keyvalues --region us-west-2 [--endpoint-url URL] [--yes]

It reads the key schema from DescribeTable (so it clears any table, whatever its keys), scans keys only,
page by page, and deletes each page with BatchWriteItem (25 keys a request), retrying the keys DynamoDB
leaves unprocessed. It asks before deleting unless --yes is given. On a global table, deletes replicate,
so clearing one replica clears them all; the prompt says so.

Exit codes: 0 cleared, 1 DynamoDB error (missing table, unreachable endpoint, no credentials, ...),
2 bad arguments, 3 declined at the prompt (nothing deleted), 130 interrupted.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlparse

EXIT_CLEARED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_DECLINED = 3
EXIT_INTERRUPTED = 130

# BatchWriteItem takes at most 25 requests (DynamoDB limit).
BATCH_WRITE_MAX_ITEMS = 25
# Keys per scan page: a page is deleted before the next is read, so memory stays bounded.
DEFAULT_PAGE_SIZE = 500
# Unprocessed keys are retried with exponential backoff, as the AWS documentation advises.
MAX_UNPROCESSED_RETRIES = 8
FIRST_BACKOFF_S = 0.05
MAX_BACKOFF_S = 2.0

REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
TABLE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


class ClearTableError(Exception):
    """A failure the operator is told about in one line (no traceback)."""


@dataclass(frozen=True)
class TableInfo:
    name: str
    key_attributes: tuple[str, ...]
    status: str
    approximate_items: int | None
    replica_regions: tuple[str, ...]


@dataclass
class Progress:
    scanned_pages: int = 0
    deleted: int = 0


def describe(client, table_name: str) -> TableInfo:
    table = client.describe_table(TableName=table_name)["Table"]
    return TableInfo(
        name=table_name,
        key_attributes=tuple(element["AttributeName"] for element in table["KeySchema"]),
        status=table.get("TableStatus", "UNKNOWN"),
        approximate_items=table.get("ItemCount"),
        replica_regions=tuple(replica["RegionName"] for replica in table.get("Replicas", [])),
    )


def scan_key_pages(client, table: TableInfo, page_size: int) -> Iterator[list[dict]]:
    """Yields the keys of the table one scan page at a time (only key attributes are read)."""
    names = {f"#k{index}": attribute for index, attribute in enumerate(table.key_attributes)}
    request = {
        "TableName": table.name,
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
        "Limit": page_size,
    }
    while True:
        page = client.scan(**request)
        keys = page.get("Items", [])
        if keys:
            yield keys
        last_key = page.get("LastEvaluatedKey")
        if not last_key:
            return
        # Continuing after a key that has since been deleted is fine: the start key is a position, not an item.
        request["ExclusiveStartKey"] = last_key


def chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def delete_keys(
    client, table_name: str, keys: list[dict], sleep: Callable[[float], None], progress: Progress
) -> None:
    """Deletes the keys in batches of 25, retrying unprocessed ones; counts each delete into ``progress``."""
    for batch in chunks(keys, BATCH_WRITE_MAX_ITEMS):
        pending = [{"DeleteRequest": {"Key": key}} for key in batch]
        backoff = FIRST_BACKOFF_S
        for attempt in range(MAX_UNPROCESSED_RETRIES + 1):
            answer = client.batch_write_item(RequestItems={table_name: pending})
            unprocessed = answer.get("UnprocessedItems", {}).get(table_name, [])
            progress.deleted += len(pending) - len(unprocessed)
            pending = unprocessed
            if not pending:
                break
            if attempt == MAX_UNPROCESSED_RETRIES:
                raise ClearTableError(
                    f"DynamoDB left {len(pending)} deletes unprocessed after {MAX_UNPROCESSED_RETRIES} retries "
                    "(the table is throttled). Run the command again to delete the rest."
                )
            sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)


def clear_table(
    client,
    table: TableInfo,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_page: Callable[[Progress], None] = lambda progress: None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
) -> Progress:
    """Scans and deletes every item; ``progress`` is updated in place so an interrupted run can report it."""
    progress = progress if progress is not None else Progress()
    for keys in scan_key_pages(client, table, page_size):
        delete_keys(client, table.name, keys, sleep, progress)
        progress.scanned_pages += 1
        on_page(progress)
    return progress


# ---------------------------------------------------------------------------------------------- CLI


def _region(text: str) -> str:
    if not REGION_PATTERN.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an AWS region name (e.g. us-west-2)")
    return text


def _table_name(text: str) -> str:
    if not TABLE_NAME_PATTERN.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a DynamoDB table name (3-255 characters: letters, digits, _ . -)"
        )
    return text


def _endpoint_url(text: str) -> str:
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL (e.g. http://127.0.0.1:8000)")
    return text


def _page_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a page size between 1 and 10000")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backend.tools.clear_table",
        description="Delete every item of a DynamoDB table (paginated scan, batched deletes).",
        epilog="Exit codes: 0 cleared, 1 DynamoDB error, 2 bad arguments, 3 declined, 130 interrupted.",
    )
    parser.add_argument("--table", required=True, type=_table_name, help="table name, e.g. keyvalues")
    parser.add_argument("--region", required=True, type=_region, help="region of the table, e.g. us-west-2")
    parser.add_argument(
        "--endpoint-url", type=_endpoint_url, help="DynamoDB endpoint (a local cloud or moto); default: AWS"
    )
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--page-size", type=_page_size, default=DEFAULT_PAGE_SIZE, help="keys per scan page (default 500)"
    )
    return parser


# Attempts per DynamoDB call, including the first: standard mode backs off on throttling and on
# connection errors (so an unreachable endpoint takes ~10 s to report). Unprocessed batch items are
# retried separately, by delete_keys.
DEFAULT_CALL_ATTEMPTS = 10


def make_client(region: str, endpoint_url: str | None, call_attempts: int = DEFAULT_CALL_ATTEMPTS):
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": call_attempts}, connect_timeout=5, read_timeout=30
    )
    # A session of its own: credentials are resolved afresh and nothing is cached in boto3's default one.
    session = boto3.session.Session(region_name=region)
    return session.client("dynamodb", endpoint_url=endpoint_url, config=config)


def _where(args) -> str:
    return f"{args.region}" + (f" at {args.endpoint_url}" if args.endpoint_url else "")


def _confirmed(table: TableInfo, args, stdin: TextIO, stderr: TextIO) -> bool:
    count = "unknown number of" if table.approximate_items is None else f"about {table.approximate_items}"
    stderr.write(f"Table {table.name!r} in {_where(args)} holds {count} items (DynamoDB's estimate).\n")
    if len(table.replica_regions) > 1 or (table.replica_regions and table.replica_regions[0] != args.region):
        stderr.write(
            "It is a global table: deletes replicate, so every replica is cleared "
            f"({', '.join(table.replica_regions)}).\n"
        )
    stderr.write(f"Type the table name ({table.name}) to delete every item, anything else to cancel: ")
    stderr.flush()
    answer = stdin.readline()
    return answer.strip() == table.name


def _describe_failure(error: Exception, args) -> str:
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "") or str(error)
        if code == "ResourceNotFoundException":
            return f"table {args.table!r} does not exist in {_where(args)}"
        if code in ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"):
            return f"AWS rejected the credentials ({code}): {message}"
        if code == "AccessDeniedException":
            return f"access denied: {message}"
        return f"DynamoDB answered {code or 'an error'}: {message}"
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach DynamoDB in {_where(args)}: {error}"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
    if isinstance(error, NoRegionError):
        return "no region given"
    return f"{type(error).__name__}: {error}"


def main(
    argv: list[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    client_factory: Callable = make_client,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse already printed the usage and the problem
        return EXIT_USAGE if exit_.code else EXIT_CLEARED

    from botocore.exceptions import BotoCoreError, ClientError

    progress = Progress()
    started = clock()

    def report(current: Progress) -> None:
        stderr.write(f"  deleted {current.deleted} items ({current.scanned_pages} pages scanned)\n")
        stderr.flush()

    try:
        client = client_factory(args.region, args.endpoint_url)
        table = describe(client, args.table)
        if table.status not in ("ACTIVE", "UPDATING"):
            stderr.write(f"error: table {args.table!r} in {_where(args)} is {table.status}, not ACTIVE\n")
            return EXIT_FAILED
        if not args.yes and not _confirmed(table, args, stdin, stderr):
            stderr.write("Cancelled: nothing was deleted.\n")
            return EXIT_DECLINED
        clear_table(client, table, page_size=args.page_size, on_page=report, sleep=sleep, progress=progress)
    except (ClientError, BotoCoreError) as error:
        stderr.write(f"error: {_describe_failure(error, args)}\n")
        if progress.deleted:
            stderr.write(f"{progress.deleted} items had been deleted before the error.\n")
        return EXIT_FAILED
    except ClearTableError as error:
        stderr.write(f"error: {error}\n{progress.deleted} items had been deleted before the error.\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        stderr.write(f"\nInterrupted: {progress.deleted} items deleted; run again to finish.\n")
        return EXIT_INTERRUPTED
    elapsed = clock() - started
    stdout.write(
        f"Deleted {progress.deleted} items from {args.table} in {_where(args)} in {elapsed:.1f} s.\n"
    )
    return EXIT_CLEARED


if __name__ == "__main__":
    sys.exit(main())

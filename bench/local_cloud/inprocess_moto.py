"""The ceiling's baseline: moto's own DynamoDB operations per second, in process, single thread.

    python -m bench.local_cloud.inprocess_moto [--seconds 3] [--item FILE]     (prints one line of JSON)

Run in a fresh subprocess by the ceiling section, so each round starts from an empty moto and pays no state left by the
previous one. Starts ``moto.mock_aws()``, creates the application's table, puts one item, then times boto3
``get_item`` (of that item) and ``put_item`` (over 1,000 keys, the item the handler writes) in a loop, each for
``--seconds``: what a region could serve at most if HTTP, the gateway and the handler cost nothing.

The item read is the one the region serves (``--item``: its DynamoDB JSON, as the ceiling section reads it from the
region's table), or else one shaped as the handler writes it (key, value, region, writtenAt). Its shape matters: moto
and botocore (de)serialize attribute by attribute, and a get of four attributes costs 14-24% more CPU than a get of
two (measured on this 2-core machine), so a baseline reading a smaller item than the region serves understates the
ratio (the first ceiling runs did: their baseline item had no ``region`` and no ``writtenAt``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def _rate(call, seconds: float) -> dict:
    count, started, cpu_started = 0, time.perf_counter(), time.process_time()
    deadline = started + seconds
    while True:
        call(count)
        count += 1
        if count % 50 == 0 and time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - started
    cpu_us = (time.process_time() - cpu_started) / count * 1e6
    return {
        "ops": count,
        "seconds": round(elapsed, 3),
        "ops_per_s": round(count / elapsed, 1),
        "cpu_us": round(cpu_us, 1),
    }


def handler_shaped_item(key: str, value: str) -> dict:
    """The DynamoDB item ``POST /{key}`` stores (``backend.items.Item``), written now in us-west-2."""
    from backend.items import Item

    return Item(key, value, "us-west-2", int(time.time() * 1000)).to_dynamodb()


def measure(seconds: float, read_item: dict | None = None) -> dict:
    import boto3
    from moto import mock_aws

    from backend.local.contracts import TABLE_NAME
    from backend.store import table_definition

    with mock_aws():
        client = boto3.client(
            "dynamodb", region_name="us-west-2", aws_access_key_id="local", aws_secret_access_key="local"
        )
        client.create_table(**table_definition(TABLE_NAME))
        value = "x" * 100

        def put(i: int) -> None:
            client.put_item(TableName=TABLE_NAME, Item=handler_shaped_item(f"ceiling-{i % 1000}", value))

        read_item = read_item or handler_shaped_item("ceiling-key", value)
        read_key = {"key": read_item["key"]}

        def get(i: int) -> None:
            if "Item" not in client.get_item(TableName=TABLE_NAME, Key=read_key):
                raise RuntimeError("the item is missing")

        put(0)
        client.put_item(TableName=TABLE_NAME, Item=read_item)
        for i in range(200):  # warm-up: botocore's first-call caches, moto's first-request paths
            get(i)
            put(i)
        return {"get_item": _rate(get, seconds), "put_item": _rate(put, seconds)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.local_cloud.inprocess_moto")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of each loop")
    parser.add_argument(
        "--item", type=Path, help="a JSON file: the DynamoDB item get_item reads (default: handler-shaped)"
    )
    args = parser.parse_args(argv)
    read_item = json.loads(args.item.read_text()) if args.item else None
    if read_item is not None and not (isinstance(read_item, dict) and "S" in read_item.get("key", {})):
        parser.error(f"--item {args.item}: not a DynamoDB item of the table (no string attribute 'key')")
    print(json.dumps(measure(args.seconds, read_item)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

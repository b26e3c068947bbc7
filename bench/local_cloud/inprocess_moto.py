"""The ceiling's baseline: moto's own DynamoDB operations per second, in process, single thread.

    python -m bench.local_cloud.inprocess_moto [--seconds 3]     (prints one line of JSON)

Run in a fresh subprocess by the ceiling section, so each round starts from an empty moto and pays no state left by the
previous one. Starts ``moto.mock_aws()``, creates the application's table, puts one item, then times boto3
``get_item`` (of that item) and ``put_item`` (over 1,000 keys, the item the handler writes) in a loop, each for
``--seconds``: what a region could serve at most if HTTP, the gateway and the handler cost nothing.
"""

from __future__ import annotations

import argparse
import json
import time


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
    return {"ops": count, "seconds": round(elapsed, 3), "ops_per_s": round(count / elapsed, 1), "cpu_us": round(cpu_us, 1)}


def measure(seconds: float) -> dict:
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
            item = {
                "key": {"S": f"ceiling-{i % 1000}"},
                "value": {"S": value},
                "region": {"S": "us-west-2"},
                "writtenAt": {"N": str(int(time.time() * 1000))},
            }
            client.put_item(TableName=TABLE_NAME, Item=item)

        def get(i: int) -> None:
            if "Item" not in client.get_item(TableName=TABLE_NAME, Key={"key": {"S": "ceiling-key"}}):
                raise RuntimeError("the item is missing")

        put(0)
        client.put_item(TableName=TABLE_NAME, Item={"key": {"S": "ceiling-key"}, "value": {"S": value}})
        for i in range(200):  # warm-up: botocore's first-call caches, moto's first-request paths
            get(i)
            put(i)
        return {"get_item": _rate(get, seconds), "put_item": _rate(put, seconds)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.local_cloud.inprocess_moto")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of each loop")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

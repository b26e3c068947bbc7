"""Section 5, the ceiling: one region's GET and POST throughput under ``wrk``, as a ratio of in-process moto's own
operations per second measured in the same run.

moto does the work of every request (the region's DynamoDB is moto), so in-process boto3 ``get_item``/``put_item`` on
one thread is about the most a region could serve; the ratio says how much of it the HTTP server, the gateway and the
handler leave. ``wrk`` (16 keep-alive connections, 2 threads) is the client because a Python client on the same 2
cores would be the bottleneck. Rounds are interleaved (in-process, wrk GET, wrk POST), each in-process round in a
fresh subprocess; the ratio is the median of the rounds' ratios. Target: GET ≥ 0.75× in-process ``get_item``; POST is
reported against ``put_item`` without a target.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import requests

from backend.local.cloud import LocalCloud
from backend.local.contracts import TABLE_NAME
from bench.local_cloud.load import US, local_client

GET_TARGET = 0.75
CONNECTIONS, THREADS = 16, 2
INSTALL_WRK = "wrk is not installed (install wrk: apt-get install wrk)"

# POSTs spread over 1,000 keys a wrk thread (named %(name)s-THREAD-N), the body the handler expects. Each wrk thread runs its own Lua state:
# setup() (in the main state) numbers the threads so two threads do not write the same keys in step.
POST_SCRIPT = """
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  n = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"value": "%(value)s"}'
end
function request()
  n = n + 1
  return wrk.format(nil, "%(prefix)s/%(name)s-" .. id .. "-" .. (n %% 1000))
end
"""


def post_script(api: str, name: str, value: str) -> str:
    """POST_SCRIPT for the stage at ``api`` (its path is the stage's, /dev)."""
    return POST_SCRIPT % {"value": value, "prefix": urlsplit(api).path.rstrip("/"), "name": name}


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return round(float(number) * _UNITS[unit], 3)


def parse_wrk(output: str) -> dict:
    """Requests/s, p50/p99 (ms), requests and errors (non-2xx answers and socket errors) from ``wrk --latency``."""
    figures = {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
    }
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    figures["errors"] = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in sockets.groups()) if sockets else 0
    )
    return figures


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, seconds: int, script: Path | None = None, pid: int | None = None) -> dict:
    # --timeout 10s: on a loaded 2-core machine a slow answer is a latency, not an error (wrk drops it at 2 s).
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        url,
    ]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    cpu_before = process_cpu_s(pid) if pid else None
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    figures = parse_wrk(done.stdout)
    if pid:  # the region's CPU per request: what each answer costs, whatever else the machine was doing
        figures["cpu_us"] = round((process_cpu_s(pid) - cpu_before) / max(figures["requests"], 1) * 1e6, 1)
    return figures


def in_process(seconds: float, item_file: Path) -> dict:
    """moto's own ops/s, in a fresh interpreter (no state, no threads left by the region or a previous round),
    reading the item in ``item_file`` (the one the region serves: the same attributes cost the same work)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.local_cloud.inprocess_moto",
            "--seconds",
            str(seconds),
            "--item",
            str(item_file),
        ],
        capture_output=True,
        text=True,
        timeout=seconds * 2 + 120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def served_item(cloud: LocalCloud, key: str) -> dict:
    """The item as the region's table holds it (DynamoDB JSON), read on its DynamoDB endpoint."""
    client = local_client(cloud, "dynamodb", US)
    return client.get_item(TableName=TABLE_NAME, Key={"key": {"S": key}}, ConsistentRead=True)["Item"]


def bench_ceiling(rounds: int, wrk_seconds: int, moto_seconds: float) -> dict:
    if shutil.which("wrk") is None:
        print(f"ceiling not measured: {INSTALL_WRK}", flush=True)
        return {"skipped": INSTALL_WRK}
    value = "x" * 100
    collected: dict[str, list] = {"get_item": [], "put_item": [], "wrk_GET": [], "wrk_POST": []}
    with (
        tempfile.TemporaryDirectory(prefix="bench-ceiling-") as folder,
        LocalCloud(regions=[US], network="none", replicate=False) as cloud,
    ):
        api = cloud.endpoints["regions"][US]
        region_pid = cloud.pids[f"region {US}"]
        requests.post(f"{api}/ceiling-key", json={"value": value}, timeout=30).raise_for_status()
        item_file = Path(folder) / "item.json"
        item_file.write_text(json.dumps(served_item(cloud, "ceiling-key")))
        script = Path(folder) / "post.lua"
        script.write_text(post_script(api, "ceiling", value))
        run_wrk(f"{api}/ceiling-key", 2)  # warm-up: connections, the region's first-request paths
        run_wrk(api, 2, script)
        for _ in range(rounds):
            moto = in_process(moto_seconds, item_file)
            collected["get_item"].append(moto["get_item"])
            collected["put_item"].append(moto["put_item"])
            collected["wrk_GET"].append(run_wrk(f"{api}/ceiling-key", wrk_seconds, pid=region_pid))
            collected["wrk_POST"].append(run_wrk(api, wrk_seconds, script, pid=region_pid))
    results: dict = {
        "rounds": rounds,
        "wrk": f"-t{THREADS} -c{CONNECTIONS} -d{wrk_seconds}s, keep-alive",
        "in_process_seconds": moto_seconds,
        "runs": collected,
    }
    for name, runs in collected.items():
        field = "ops_per_s" if name.endswith("_item") else "requests_per_s"
        results[name] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        results[name]["rate"] = results[name][field]
    # Per round: a burst of load from other processes (this is a shared 2-core machine) hits one round's two
    # figures alike, so the median of the rounds' ratios is steadier than the ratio of the medians.
    results["ratios_per_round"] = {
        method: [
            round(w["requests_per_s"] / m["ops_per_s"], 3)
            for w, m in zip(collected[f"wrk_{method}"], collected[item], strict=True)
        ]
        for method, item in (("GET", "get_item"), ("POST", "put_item"))
    }
    # The same question in CPU time: moto's CPU per operation over the region's CPU per request. The machine's
    # speed drifts (a shared 2-core VM: the same run measured 455-650 req/s), CPU per answer far less.
    results["cpu_ratios_per_round"] = {
        method: [
            round(m["cpu_us"] / w["cpu_us"], 3)
            for w, m in zip(collected[f"wrk_{method}"], collected[item], strict=True)
        ]
        for method, item in (("GET", "get_item"), ("POST", "put_item"))
    }
    results["GET_cpu_ratio"] = round(statistics.median(results["cpu_ratios_per_round"]["GET"]), 3)
    results["POST_cpu_ratio"] = round(statistics.median(results["cpu_ratios_per_round"]["POST"]), 3)
    results["GET_ratio"] = round(statistics.median(results["ratios_per_round"]["GET"]), 3)
    results["POST_ratio"] = round(statistics.median(results["ratios_per_round"]["POST"]), 3)
    return results


def verdicts(ceiling: dict) -> list[tuple[str, str, bool | None]]:
    label = f"ceiling: GET under wrk ≥ {GET_TARGET}× in-process moto get_item (1 region, network none)"
    if not ceiling:
        return []
    if "skipped" in ceiling:
        return [(label, f"not measured: {ceiling['skipped']}", None)]
    get, post = ceiling["GET_ratio"], ceiling["POST_ratio"]
    return [
        (
            label,
            f"{get:.2f}× ({ceiling['wrk_GET']['rate']:.0f} / {ceiling['get_item']['rate']:.0f})",
            get >= GET_TARGET,
        ),
        (
            "ceiling: POST under wrk vs in-process moto put_item (no target)",
            f"{post:.2f}× ({ceiling['wrk_POST']['rate']:.0f} / {ceiling['put_item']['rate']:.0f})",
            None,
        ),
        (
            "ceiling in CPU time: moto's CPU per op / the region's CPU per request, GET and POST (no target)",
            f"{ceiling['GET_cpu_ratio']:.2f}× / {ceiling['POST_cpu_ratio']:.2f}×",
            None,
        ),
    ]


def markdown(ceiling: dict) -> list[str]:
    if not ceiling:
        return []
    lines = ["## Ceiling: one region under wrk vs in-process moto (median of interleaved rounds)", ""]
    if "skipped" in ceiling:
        return [*lines, f"Not measured: {ceiling['skipped']}.", ""]
    lines += [
        f"wrk {ceiling['wrk']}; in-process: boto3 on moto.mock_aws(), one thread, {ceiling['in_process_seconds']} s "
        f"a loop, rounds: {ceiling['rounds']} (ratios per round: GET {ceiling['ratios_per_round']['GET']}, "
        f"POST {ceiling['ratios_per_round']['POST']}).",
        "",
        "| operation | in-process ops/s | wrk req/s | ratio | wrk p50 ms | wrk p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, item in (("GET", "get_item"), ("POST", "put_item")):
        measured = ceiling[f"wrk_{method}"]
        lines.append(
            f"| {method} / {item} | {ceiling[item]['rate']} | {measured['rate']} | {ceiling[f'{method}_ratio']}× | "
            f"{measured['p50_ms']} | {measured['p99_ms']} | {measured['errors']} |"
        )
    return [*lines, ""]

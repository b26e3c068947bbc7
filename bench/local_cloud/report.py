"""The local cloud's verdicts (target, measured, met) and its markdown report."""

from __future__ import annotations

import json

from bench.local_cloud import ceiling, sustained
from bench.run_context import describe


def verdicts(results: dict) -> list[tuple[str, str, bool | None]]:
    checks = []
    path = results.get("request_path", {})
    local, boto, offline = (
        path.get("local_gateway", {}),
        path.get("direct_boto3", {}),
        path.get("serverless_offline"),
    )
    if offline:
        ratio = local["GET_1t"]["p50_ms"] / offline["GET_1t"]["p50_ms"]
        checks.append(("GET p50 ≤ 0.5× serverless-offline's (1 thread)", f"{ratio:.2f}×", ratio <= 0.5))
        for method in ("GET", "POST"):
            ratio = local[f"{method}_8t"]["throughput_rps"] / offline[f"{method}_8t"]["throughput_rps"]
            checks.append(
                (f"{method} throughput ≥ 2× serverless-offline's (8 threads)", f"{ratio:.2f}×", ratio >= 2)
            )
    elif path:
        checks.append(
            ("serverless-offline comparison", f"skipped: {path.get('serverless_offline_skipped')}", None)
        )
    if local and boto:
        for method in ("GET", "POST"):
            added = local[f"{method}_1t"]["p50_ms"] - boto[f"{method}_1t"]["p50_ms"]
            checks.append(
                (f"{method} added p50 over direct boto3 ≤ 2 ms (1 thread)", f"{added:+.2f} ms", added <= 2)
            )
    memory = results.get("replication_memory", {})
    if memory:
        pairs = [p for p in memory["replication_latency_reported"].get("pairs", []) if p.get("count")]
        if pairs:
            p50 = max(p["p50_ms"] for p in pairs)
            p99 = max(p["p99_ms"] for p in pairs)
            checks.append(
                ("replication lag p50 ≤ 100 ms (network none, worst pair)", f"{p50} ms", p50 <= 100)
            )
            checks.append(
                ("replication lag p99 ≤ 300 ms (network none, worst pair)", f"{p99} ms", p99 <= 300)
            )
        writes = memory.get("writes", {})
        hours = memory.get("idle_polls", {}).get("equivalent_idle_hours")
        for label, field in (
            (f"after {writes.get('count', 0):,} writes", "rss_after_writes_mb"),
            (f"after {hours} h worth of idle stream polls", "rss_after_idle_polls_mb"),
        ):
            value = memory.get(field)
            if value is not None:
                checks.append((f"stack RSS ≤ 300 MB {label}", f"{value} MB", value <= 300))
    startup = results.get("startup", {})
    if startup:
        value = startup["two_region_cloud_s"]
        checks.append(("two-region cloud ready ≤ 5 s", f"{value} s", value <= 5))
    checks += ceiling.verdicts(results.get("ceiling", {}))
    checks += sustained.verdicts(results.get("sustained", {}))
    return checks


def markdown(results: dict) -> str:
    kind = ("quick" if results["quick"] else "full") + " run"
    if results.get("only"):
        kind += f", {results['only']} only"
    lines = [
        f"# Local cloud benchmarks ({results['run']['date']}, {kind})",
        "",
        f"Run: {describe(results['run'])}. Absolute figures are noisy; ratios are measured in the same run, "
        "interleaved.",
        "",
    ]
    path = results.get("request_path")
    if path:
        lines += [
            "## One region, network none (median of interleaved rounds)",
            "",
            "| system | case | p50 ms | p99 ms | req/s | errors |",
            "|---|---|---|---|---|---|",
        ]
        for name in ("local_gateway", "direct_boto3", "serverless_offline"):
            for case, figures in (path.get(name) or {}).items():
                lines.append(
                    f"| {name} | {case} | {figures['p50_ms']} | {figures['p99_ms']} | "
                    f"{figures['throughput_rps']} | {figures['errors']} |"
                )
        lines.append("")
    memory = results.get("replication_memory")
    if memory:
        lines += ["## Two regions, network none: replication and memory", ""]
        pairs = [p for p in memory["replication_latency_reported"].get("pairs", []) if p.get("count")]
        for pair in pairs:
            lines.append(
                f"- ReplicationLatency {pair['source']} → {pair['destination']} (replicator, {pair['count']} writes, "
                f"one at a time): p50 {pair['p50_ms']} ms, p99 {pair['p99_ms']} ms"
            )
        client = memory["lag_client_view"]
        lines.append(
            f"- As a client sees it (write, then poll the other region's table): p50 {client['p50_ms']} ms, "
            f"p99 {client['p99_ms']} ms over {client['writes']} writes"
        )
        writes = memory.get("writes")
        if writes:
            lines.append(
                f"- {writes['count']:,} writes ({writes['errors']} errors) on {writes['keys']:,} keys in "
                f"{writes['bursts']} bursts of {writes['burst_size']:,}: written at {writes['write_rps']} req/s, "
                f"replicated end to end at {writes['replicated_rps']} req/s, largest backlog seen "
                f"{writes['backlog_peak_seen']:,}"
            )
        lines.append(
            f"- Stack RSS: idle {memory['rss_idle_mb']} MB, peak during writes {memory.get('rss_peak_writes_mb')} MB, "
            f"after the writes {memory.get('rss_after_writes_mb')} MB, after the idle polls "
            f"{memory.get('rss_after_idle_polls_mb')} MB; per process after the writes: "
            + ", ".join(f"{name} {mb} MB" for name, mb in memory.get("rss_per_process_mb", {}).items())
        )
        polls = memory.get("idle_polls")
        if polls:
            lines.append(
                f"- Idle polls: {polls['per_region']} in {polls['seconds']} s = "
                f"{polls['equivalent_idle_hours']} h of the replicator idling"
            )
        lines.append("")
    lines += ceiling.markdown(results.get("ceiling", {}))
    lines += sustained.markdown(results.get("sustained", {}))
    lines += ["## Verdicts", "", "| target | measured | met |", "|---|---|---|"]
    for label, value, met in verdicts(results):
        lines.append(f"| {label} | {value} | {'yes' if met else ('n/a' if met is None else 'NO')} |")
    lines += ["", "## Everything", "", "```json", json.dumps(results, indent=2), "```", ""]
    return "\n".join(lines)

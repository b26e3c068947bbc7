"""The bench's own plumbing: wrk's output parsed, the ceiling without wrk, the run context, where results go."""

from bench import run_context
from bench.local_cloud import ceiling, report

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:40000/dev/ceiling-key
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    22.10ms   10.00ms   1.20s    90.00%
  Latency Distribution
     50%  812.00us
     75%   20.00ms
     90%   30.00ms
     99%    1.20s
  651 requests in 3.00s, 100.00KB read
  Socket errors: connect 0, read 0, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:    217.70
Transfer/sec:     33.33KB
"""


def test_wrk_output_parsed_with_units_and_errors():
    figures = ceiling.parse_wrk(WRK_OUTPUT)
    assert figures == {
        "requests_per_s": 217.7,
        "requests": 651,
        "p50_ms": 0.812,
        "p99_ms": 1200.0,
        "errors": 5,
    }


def test_ceiling_without_wrk_is_not_measured_and_says_how_to_install(monkeypatch):
    monkeypatch.setattr(ceiling.shutil, "which", lambda name: None)
    measured = ceiling.bench_ceiling(rounds=1, wrk_seconds=1, moto_seconds=0.1)
    assert "apt-get install wrk" in measured["skipped"]
    [(label, value, met)] = ceiling.verdicts(measured)
    assert met is None and value.startswith("not measured")
    results = {"run": run_context.run_context(), "quick": True, "only": "ceiling", "ceiling": measured}
    assert "install wrk: apt-get install wrk" in report.markdown(results)


def test_run_context_names_date_commit_and_machine():
    context = run_context.run_context()
    assert context["date"].endswith("+00:00")
    assert context["commit"]
    assert context["machine"]["cores"] >= 1 and len(context["machine"]["load_average"]) == 3
    assert context["machine"]["cpu"]


def test_only_the_full_run_publishes():
    assert run_context.results_dir(published=True).parts[-2:] == ("bench", "results")
    assert run_context.results_dir(published=False).parts[-2:] == (".local", "bench")

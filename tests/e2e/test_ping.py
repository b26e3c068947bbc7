"""``mrkv-probe ping`` against a stand-in HTTPS server on 127.0.0.1 (its own process, a test certificate, a delay
injected per region): the phases come out apart and at the injected values; with no route it stops at once with one
line."""

from __future__ import annotations

import json
import socket
import time

import pytest
from ping_stand_in import PingStandIn

from backend.local import network
from dashboard.measure import cli, ping
from dashboard.measure.runs.store import RunStore

pytestmark = pytest.mark.e2e

DELAYS_MS = {"us-east-1": 60.0, "eu-west-1": 120.0, "ap-southeast-2": 200.0}
TLS_DELAY_MS = 80.0


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    with PingStandIn(tmp_path_factory.mktemp("ping"), DELAYS_MS, tls_delay_ms=TLS_DELAY_MS) as server:
        yield server


@pytest.fixture(scope="module")
def document(stand_in):
    return ping.run(
        list(DELAYS_MS), "Frankfurt", template=stand_in.template, count=8, cafile=str(stand_in.cafile), concurrency=3
    )


def _within(measured, expected, fraction=0.10):
    return abs(measured - expected) <= fraction * expected


def test_ping_reports_the_injected_delays_within_ten_percent(document):
    report = {}
    for region, delay in DELAYS_MS.items():
        result = document["regions"][region]
        assert result["ok"], result["error"]
        warm, new = result["warm"]["first_byte_ms"]["p50"], result["new"]["first_byte_ms"]["p50"]
        report[region] = (delay, warm, new)
        assert _within(warm, delay) and _within(new, delay), report
        assert result["warm"]["first_byte_ms"]["n"] == result["new"]["total_ms"]["n"] == 8


def test_connect_tls_and_first_byte_are_split_apart(document):
    for region, delay in DELAYS_MS.items():
        new = document["regions"][region]["new"]
        # the kernel accepts at loopback speed; the handshake waits the TLS delay; the answer the region's delay
        assert new["dns_ms"]["p50"] < 5 and new["connect_ms"]["p50"] < 5, new
        assert _within(new["tls_ms"]["p50"], TLS_DELAY_MS), new["tls_ms"]
        assert _within(new["first_byte_ms"]["p50"], delay), new["first_byte_ms"]
        assert _within(new["total_ms"]["p50"], TLS_DELAY_MS + delay), new["total_ms"]
        assert new["total_ms"]["min"] >= new["tls_ms"]["min"] + new["first_byte_ms"]["min"]


def test_the_run_is_saved_with_its_context_and_the_cli_prints_the_table(
    stand_in, tmp_path, capsys, isolated_run_store
):
    output = tmp_path / "run.json"
    argv = ["ping", "--client-location", "Frankfurt", "--regions", "us-east-1,eu-west-1", "--count", "3"]
    argv += ["--url-template", stand_in.template, "--cafile", str(stand_in.cafile), "--output", str(output)]
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert "us-east-1" in out and "warm p50" in out and f"ping:{output}" in out
    frankfurt = network.parse_location("Frankfurt")
    model = network.modelled_rtt_ms(frankfurt, network.REGIONS["us-east-1"])
    assert f"{model:.1f}" in next(line for line in out.splitlines() if line.startswith("us-east-1"))
    saved = json.loads(output.read_text())
    assert saved["kind"] == "mrkv-probe ping" and saved["environment"] == "AWS public endpoints"
    assert saved["client_location"] == "Frankfurt" and saved["url_template"] == stand_in.template
    assert saved["started_at"].endswith("+00:00") and saved["count"] == 3
    assert set(saved["regions"]) == {"us-east-1", "eu-west-1"}
    # and kept in the run store, as the dashboard's AWS endpoints page keeps it
    (run,) = RunStore(isolated_run_store).list(kind="ping")
    assert run["environment"] == "AWS public endpoints" and run["client_location"] == "Frankfurt"
    assert run["status"] == "complete" and run["samples"] == 2 * 2 * 3
    assert run["summary"]["regions"]["us-east-1"]["warm"] == saved["regions"]["us-east-1"]["warm"]
    assert f"run {run['id']} kept in {isolated_run_store}" in err


def test_a_region_that_fails_is_reported_and_the_others_still_run(stand_in):
    document = ping.run(
        ["us-east-1", "sa-east-1"], "Frankfurt", template=stand_in.template, count=2, cafile=str(stand_in.cafile)
    )
    assert document["regions"]["us-east-1"]["ok"]
    assert document["regions"]["sa-east-1"]["error"].endswith("HTTP 404 from 127.0.0.1/sa-east-1/ping")


def test_no_route_fails_fast_with_one_line(capsys):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connection refused, as with no route
    started = time.monotonic()
    code = cli.main(["ping", "--client-location", "Seattle", "--url-template", f"https://127.0.0.1:{port}/{{region}}/ping"])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 1 and elapsed < 3.0
    assert err.count("\n") == 1 and err.startswith("error: cannot connect to https://127.0.0.1:"), err
    assert "no network route" in err and "Traceback" not in err


def test_no_name_resolution_is_the_no_network_message():
    def no_dns(*_args, **_kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(ping.Unreachable, match=r"cannot resolve dynamodb\.us-east-1\.amazonaws\.com .*no network"):
        ping.run(["us-east-1"], "Seattle", resolve=no_dns)


@pytest.mark.parametrize(
    "template, message",
    [("https://example.test/ping", "must contain {region}"), ("http://x/{region}", "https URLs")],
)
def test_a_bad_template_is_a_clear_error(template, message, capsys):
    assert cli.main(["ping", "--client-location", "Seattle", "--url-template", template]) == 1
    assert message in capsys.readouterr().err


def test_an_unknown_region_or_location_is_a_clear_error(capsys):
    assert cli.main(["ping", "--client-location", "Atlantis"]) == 1
    assert "Unknown location" in capsys.readouterr().err
    assert cli.main(["ping", "--client-location", "Seattle", "--regions", "mars-north-1"]) == 1
    assert "Unknown AWS region" in capsys.readouterr().err

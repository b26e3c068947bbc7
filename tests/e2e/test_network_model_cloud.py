"""The network model in the running local cloud (network realistic), measured over HTTP as a client would.

Issue 14's acceptance: with the client placed in a region (``client_location`` = a region code), each region's stage
answers after the measured one-year median for the pair (within +-10 %), for the 20 ordered pairs of five regions on
five continents; replication lands after the pair's one-way time + the processing time, as the lag probe measures it.
"""

from __future__ import annotations

import statistics
from concurrent.futures import ThreadPoolExecutor

import pytest

from backend.local import network
from dashboard.measure.probes.lag import run_lag
from dashboard.measure.probes.lag_math import lag_summary
from dashboard.measure.targets import load_endpoints_file
from dashboard.measure.timed_client import TimedClient

pytestmark = pytest.mark.e2e

# North America, Europe, Asia, South America, Oceania: the 10 pairs are 70-312 ms apart.
REGIONS = ["us-east-1", "eu-west-1", "ap-northeast-1", "sa-east-1", "ap-southeast-2"]
SAMPLES = 7


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    from backend.local.cloud import LocalCloud

    endpoints_file = tmp_path_factory.mktemp("network-model") / "endpoints.json"
    local = LocalCloud(
        regions=REGIONS, network="realistic", client_location=REGIONS[0], endpoints_file=endpoints_file
    )
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="module")
def control(cloud):
    from backend.local.control import ControlClient

    return ControlClient(load_endpoints_file(cloud.endpoints_file).control_url)


def _median_round_trip_ms(api_url: str, samples: int = SAMPLES) -> float:
    """Median network time of GETs on one keep-alive connection, as the dashboard engine measures it: the request's
    time minus the function's own (``Server-Timing``); the first request opens the connection and is not counted."""
    times = []
    with TimedClient("network-model", api_url) as client:
        for n in range(samples + 1):
            result = client.read("probe-network-model")
            assert result.row["status"] == 404, result.row
            if n:
                times.append(result.row["network_ms"])
    return statistics.median(times)


def _within_ten_percent_in_one_of_three(measure):
    """``measure()`` -> rows ending in (measured, expected); passes when one run has every row within +-10 %.

    Other work on the 2 cores makes the region processes' sleeps wake late in bursts, beyond any margin; an error of
    the model would show in every run. Returns the attempts' rows for the failure message and the report."""
    attempts = []
    for _ in range(3):
        rows = measure()
        attempts.append([(*row, f"{100 * (row[-2] - row[-1]) / row[-1]:+.1f}%") for row in rows])
        if all(abs(row[-2] - row[-1]) <= 0.10 * row[-1] for row in rows):
            return attempts
    pytest.fail(f"not within 10 % in 3 runs: {attempts}")


def test_round_trips_match_the_measured_medians_with_the_client_in_each_region(cloud, control):
    pairs = 0
    with ThreadPoolExecutor(len(REGIONS)) as pool:
        for placed in REGIONS:
            control.set_client_location(placed)
            assert control.client_location() == placed
            others = [r for r in REGIONS if r != placed]

            def measure(placed=placed, others=others):
                measured = pool.map(_median_round_trip_ms, [cloud.endpoints["regions"][r] for r in others])
                return [
                    (placed, region, round(ms, 1), round(network.region_rtt_ms(placed, region), 1))
                    for region, ms in zip(others, measured, strict=True)
                ]

            attempts = _within_ten_percent_in_one_of_three(measure)
            print(f"\nclient in {placed} (region, measured ms, shipped median ms, error):", *attempts, sep="\n  ")
            pairs += len(others)
    assert pairs == 20  # 10 pairs across continents, both ways
    # the status the dashboard reads says where the figure comes from
    status = control.status()
    assert {r["modelled_rtt_source"] for r in status["regions"].values()} == {"measured"}


def test_replication_lag_is_one_way_plus_processing(cloud, control):
    source = "us-east-1"
    control.set_client_location(source)
    targets = load_endpoints_file(cloud.endpoints_file)

    def measure():
        rows = []
        for destination in ("eu-west-1", "ap-southeast-2"):
            # one destination at a time, polled every 10 ms at the densest: the probe's own polling must not starve
            # the replicator of the 2 cores it shares with it
            df = run_lag(targets, source, [destination], probes=8, timeout_s=10.0, min_interval_ms=10.0)
            assert (df["status"] == "seen").all(), df["error"].tolist()
            summary = lag_summary(df).loc[(source, destination)]
            expected = network.replication_delay_ms(source, destination)
            rows.append((destination, round(float(summary["resolution_p50"]), 1), round(float(summary["p50"]), 1),
                         round(expected, 1)))
        return rows

    attempts = _within_ten_percent_in_one_of_three(measure)
    print("\nreplication lag (destination, probe resolution, p50, modelled; ms):", *attempts, sep="\n  ")
    last = {row[0]: row[2] for row in attempts[-1]}
    # one way + 500 ms: the farther pair later by about half the RTT difference
    assert last["ap-southeast-2"] > last["eu-west-1"]


def test_a_ping_run_calibrates_the_clients_round_trips(cloud, control, tmp_path):
    """mrkv-probe ping against a stand-in (a delay injected per region), saved, then used as the client location:
    each region answers after the delay the ping measured (which tests/e2e/test_ping.py holds to the injected one)."""
    from ping_stand_in import PingStandIn

    from dashboard.measure import ping

    injected = {"us-east-1": 100.0, "eu-west-1": 150.0, "ap-southeast-2": 250.0}
    with PingStandIn(tmp_path, injected, tls_delay_ms=10.0) as stand_in:
        run = ping.run(list(injected), "Frankfurt", template=stand_in.template, count=5, cafile=str(stand_in.cafile))
    path = ping.save(run, tmp_path / "ping-run.json")
    control.set_client_location(f"ping:{path}")
    try:
        status = control.status()
        frankfurt = network.parse_location("Frankfurt")
        for region in injected:
            figures = status["regions"][region]
            assert figures["modelled_rtt_source"] == "calibrated"
            # shown beside the built-in model for the declared location
            assert figures["builtin_rtt_ms"] == round(network.modelled_rtt_ms(frankfurt, network.REGIONS[region]), 1)

        def measure():
            rows = []
            for region, delay in injected.items():
                pinged = run["regions"][region]["warm"]["first_byte_ms"]["p50"]
                through_cloud = round(_median_round_trip_ms(cloud.endpoints["regions"][region]), 1)
                rows += [(region, "vs injected", through_cloud, delay), (region, "vs ping", through_cloud, pinged)]
            return rows

        attempts = _within_ten_percent_in_one_of_three(measure)
        print("\ncalibrated round trips (region, against, through the cloud ms, expected ms):", *attempts, sep="\n  ")
        # regions the run did not measure keep the built-in model (from the declared location, Frankfurt)
        assert status["regions"]["sa-east-1"]["modelled_rtt_source"] == "formula"
        # and the latency-based router now picks the region this network reaches fastest
        assert status["router"]["order"][0] == "us-east-1"
    finally:
        control.set_client_location(REGIONS[0])

"""clear_table against moto's DynamoDB in-process: pagination, batching, the prompt, errors and exit codes."""

import functools
import io
import socket

import boto3
import pytest
from moto import mock_aws

from backend.store import table_definition
from backend.tools import clear_table as tool

TABLE = "keyvalues"
REGION = "us-west-2"
OTHER_REGION = "eu-central-1"


@pytest.fixture
def dynamodb(monkeypatch):
    """moto in-process with the keyvalues table in two regions; yields a client factory per region."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # boto3's default session caches the credentials it first resolves; drop it afterwards so these fake
    # ones do not leak into later tests (a test of "no credentials" would then find some).
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        clients = {region: boto3.client("dynamodb", region_name=region) for region in (REGION, OTHER_REGION)}
        for client in clients.values():
            client.create_table(**table_definition(TABLE))
        yield clients


def fill(client, count, table=TABLE, prefix="key"):
    for start in range(0, count, 25):
        requests = [
            {"PutRequest": {"Item": {"key": {"S": f"{prefix}-{n:05d}"}, "value": {"S": "v" * 40}}}}
            for n in range(start, min(start + 25, count))
        ]
        client.batch_write_item(RequestItems={table: requests})


def count_items(client, table=TABLE):
    total, request = 0, {"TableName": table, "Select": "COUNT"}
    while True:
        page = client.scan(**request)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run(argv, stdin_text="", **kwargs):
    stdout, stderr = io.StringIO(), io.StringIO()
    code = tool.main(argv, stdin=io.StringIO(stdin_text), stdout=stdout, stderr=stderr, **kwargs)
    return code, stdout.getvalue(), stderr.getvalue()


def test_yes_clears_several_pages_and_leaves_other_regions_alone(dynamodb):
    fill(dynamodb[REGION], 730)
    fill(dynamodb[OTHER_REGION], 40)

    code, out, err = run(["--table", TABLE, "--region", REGION, "--yes", "--page-size", "100"])

    assert code == tool.EXIT_CLEARED, err
    assert count_items(dynamodb[REGION]) == 0
    assert count_items(dynamodb[OTHER_REGION]) == 40
    assert f"Deleted 730 items from {TABLE} in {REGION}" in out
    # One progress line per scan page: 730 keys at 100 a page.
    progress_lines = [line for line in err.splitlines() if line.strip().startswith("deleted ")]
    assert len(progress_lines) == 8
    assert progress_lines[-1].strip() == "deleted 730 items (8 pages scanned)"
    assert "Type the table name" not in err


def test_default_page_size_paginates_past_the_first_page(dynamodb):
    fill(dynamodb[REGION], tool.DEFAULT_PAGE_SIZE + 120)

    code, out, err = run(["--table", TABLE, "--region", REGION, "--yes"])

    assert code == tool.EXIT_CLEARED, err
    assert count_items(dynamodb[REGION]) == 0
    assert "(2 pages scanned)" in err


def test_empty_table_is_cleared_without_error(dynamodb):
    code, out, _ = run(["--table", TABLE, "--region", REGION, "--yes"])
    assert code == tool.EXIT_CLEARED
    assert "Deleted 0 items" in out


@pytest.mark.parametrize("answer", ["no\n", "y\n", "yes\n", "", "keyvalue\n"])
def test_prompt_declined_deletes_nothing(dynamodb, answer):
    fill(dynamodb[REGION], 60)

    code, out, err = run(["--table", TABLE, "--region", REGION], stdin_text=answer)

    assert code == tool.EXIT_DECLINED
    assert count_items(dynamodb[REGION]) == 60
    assert "about 60 items" in err
    assert "Cancelled: nothing was deleted." in err
    assert out == ""


def test_prompt_confirmed_by_typing_the_table_name(dynamodb):
    fill(dynamodb[REGION], 60)

    code, out, err = run(["--table", TABLE, "--region", REGION], stdin_text=f"  {TABLE}\n")

    assert code == tool.EXIT_CLEARED, err
    assert count_items(dynamodb[REGION]) == 0
    assert "Deleted 60 items" in out


def test_missing_table_is_a_clear_error(dynamodb):
    code, out, err = run(["--table", "no-such-table", "--region", REGION, "--yes"])

    assert code == tool.EXIT_FAILED
    assert err.strip() == f"error: table 'no-such-table' does not exist in {REGION}"
    assert "Traceback" not in err
    assert out == ""


def test_table_with_a_sort_key_is_cleared_by_its_whole_key(dynamodb):
    client = dynamodb[REGION]
    client.create_table(
        TableName="events",
        AttributeDefinitions=[
            {"AttributeName": "stream", "AttributeType": "S"},
            {"AttributeName": "at", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "stream", "KeyType": "HASH"},
            {"AttributeName": "at", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for stream in ("a", "b", "c"):
        for at in range(40):
            client.put_item(TableName="events", Item={"stream": {"S": stream}, "at": {"N": str(at)}})

    code, out, err = run(["--table", "events", "--region", REGION, "--yes", "--page-size", "50"])

    assert code == tool.EXIT_CLEARED, err
    assert count_items(client, "events") == 0
    assert "Deleted 120 items" in out


@pytest.mark.parametrize(
    "argv, complaint",
    [
        (["--region", REGION, "--yes"], "--table"),
        (["--table", TABLE, "--yes"], "--region"),
        (["--table", TABLE, "--region", "US-WEST-2"], "not an AWS region name"),
        (["--table", "x", "--region", REGION], "not a DynamoDB table name"),
        (["--table", TABLE, "--region", REGION, "--endpoint-url", "localhost:8000"], "not an http(s) URL"),
        (["--table", TABLE, "--region", REGION, "--page-size", "0"], "page size"),
    ],
)
def test_bad_arguments_exit_2_with_usage(argv, complaint, capsys):
    code, out, _ = run(argv)
    err = capsys.readouterr().err  # argparse writes to sys.stderr
    assert code == tool.EXIT_USAGE
    assert "usage: python -m backend.tools.clear_table" in err
    assert complaint in err
    assert "Traceback" not in err


def test_unreachable_endpoint_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"

    code, _, err = run(
        ["--table", TABLE, "--region", REGION, "--endpoint-url", endpoint, "--yes"],
        client_factory=functools.partial(tool.make_client, call_attempts=1),
    )

    assert code == tool.EXIT_FAILED
    assert err.startswith(f"error: cannot reach DynamoDB in {REGION} at {endpoint}")
    assert "Traceback" not in err


class DefersDeletes:
    """The real moto client, except that batch_write_item leaves the last `defer` requests unprocessed
    the first `times` calls, as DynamoDB does under throttling (moto itself never does)."""

    def __init__(self, client, defer, times):
        self._client = client
        self.defer = defer
        self.times = times
        self.batch_calls = 0

    def __getattr__(self, name):
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems):
        self.batch_calls += 1
        ((table, requests),) = RequestItems.items()
        if self.times > 0:
            self.times -= 1
            done, deferred = requests[: -self.defer], requests[-self.defer :]
            if done:
                self._client.batch_write_item(RequestItems={table: done})
            return {"UnprocessedItems": {table: deferred}}
        return self._client.batch_write_item(RequestItems=RequestItems)


def test_unprocessed_deletes_are_retried_with_backoff(dynamodb):
    fill(dynamodb[REGION], 100)
    client = DefersDeletes(dynamodb[REGION], defer=5, times=3)
    pauses = []

    progress = tool.clear_table(client, tool.describe(client, TABLE), page_size=100, sleep=pauses.append)

    assert count_items(dynamodb[REGION]) == 0
    assert progress.deleted == 100
    assert pauses == [0.05, 0.1, 0.2]  # the first batch was deferred three times in a row
    assert client.batch_calls == 4 + 3  # 100 keys = 4 batches of 25, plus 3 retries


def test_persistent_unprocessed_deletes_give_up_with_a_message(dynamodb):
    fill(dynamodb[REGION], 30)
    client = DefersDeletes(dynamodb[REGION], defer=1, times=10_000)
    pauses = []

    code, out, err = run(
        ["--table", TABLE, "--region", REGION, "--yes"],
        client_factory=lambda region, endpoint_url: client,
        sleep=pauses.append,
    )

    assert code == tool.EXIT_FAILED
    assert "deletes unprocessed after 8 retries" in err
    # The first batch of 25 lost one key for good; the tool stops there rather than hammer a throttled table.
    assert "24 items had been deleted before the error." in err
    assert "Traceback" not in err
    assert count_items(dynamodb[REGION]) == 30 - 24
    assert pauses == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]  # doubling, capped at 2 s


class InterruptedOnScan:
    """The real moto client; Ctrl-C arrives while the `nth` scan page is being read."""

    def __init__(self, client, nth):
        self._client = client
        self.scans_left = nth

    def __getattr__(self, name):
        return getattr(self._client, name)

    def scan(self, **request):
        self.scans_left -= 1
        if self.scans_left == 0:
            raise KeyboardInterrupt
        return self._client.scan(**request)


def test_ctrl_c_reports_what_was_deleted_and_exits_130(dynamodb):
    fill(dynamodb[REGION], 250)
    client = InterruptedOnScan(dynamodb[REGION], nth=3)

    code, out, err = run(
        ["--table", TABLE, "--region", REGION, "--yes", "--page-size", "100"],
        client_factory=lambda region, endpoint_url: client,
    )

    assert code == tool.EXIT_INTERRUPTED
    assert "Interrupted: 200 items deleted; run again to finish." in err
    assert "Traceback" not in err and out == ""
    assert count_items(dynamodb[REGION]) == 50

"""The replicator's wire-protocol client against a real moto server on 127.0.0.1, and against a server that drops
kept-alive connections."""

import socketserver
import threading

import boto3
import pytest
from moto_support import moto_server
from starlette.routing import Route

from backend.local.replication.wire import STREAMS, WireClient, WireError
from backend.local.web import RawResponse, WebServer, web_app
from backend.store import table_definition

TABLE = "keyvalues"


@pytest.fixture(scope="module")
def moto_url():
    with moto_server() as url:
        boto = boto3.client(
            "dynamodb", region_name="eu-central-1", endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="x"
        )
        boto.create_table(**table_definition(TABLE))
        yield url
        # moto's state is the process's: the next module (the backfill test) creates this table again.
        boto.delete_table(TableName=TABLE)


def item(key, value, ts):
    return {"key": {"S": key}, "value": {"S": value}, "writtenAt": {"N": str(ts)}}


def test_writes_reads_and_the_stream_answer_as_boto3_does(moto_url):
    dynamodb, streams = WireClient(moto_url, "eu-central-1"), WireClient(moto_url, "eu-central-1", STREAMS)
    dynamodb.put_item(TableName=TABLE, Item=item("a", "1", 1000))
    assert dynamodb.get_item(TableName=TABLE, Key={"key": {"S": "a"}})["Item"] == item("a", "1", 1000)
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    first = records[0]
    assert first["eventName"] == "INSERT" and first["dynamodb"]["NewImage"] == item("a", "1", 1000)
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], float)  # epoch seconds, not a datetime


def test_a_refused_condition_raises_with_the_old_item(moto_url):
    dynamodb = WireClient(moto_url, "eu-central-1")
    dynamodb.put_item(TableName=TABLE, Item=item("c", "old", 5))
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException) as refused:
        dynamodb.put_item(
            TableName=TABLE,
            Item=item("c", "new", 1),
            ConditionExpression="#ts < :ts",
            ExpressionAttributeNames={"#ts": "writtenAt"},
            ExpressionAttributeValues={":ts": {"N": "1"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert refused.value.response["Item"] == item("c", "old", 5)
    assert refused.value.status == 400


def test_the_region_comes_from_the_credential_scope(moto_url):
    with pytest.raises(WireClient.exceptions.ResourceNotFoundException):
        WireClient(moto_url, "us-west-2").describe_table(TableName=TABLE)


def test_an_html_error_page_becomes_a_wire_error():
    """moto answered some failures with an HTML page (our patches now answer JSON): a stand-in that does so."""

    async def html_error(request):
        return RawResponse(500, [("Content-Type", "text/html")], b"<!doctype html><title>500 Internal Server Error</title>")

    server = WebServer(web_app([Route("/", html_error, methods=["POST"])], "html-errors"), loop="asyncio")
    server.start()
    try:
        with pytest.raises(WireError) as failed:
            WireClient(server.url, "eu-central-1", STREAMS).get_records(ShardIterator="not-an-iterator")
        assert failed.value.status == 500 and failed.value.code == "HTTP500"
        assert "500 Internal Server Error" in failed.value.message
    finally:
        server.stop()


def test_threads_share_a_client(moto_url):
    dynamodb = WireClient(moto_url, "eu-central-1")
    errors = []

    def write(n):
        try:
            for i in range(20):
                dynamodb.put_item(TableName=TABLE, Item=item(f"t{n}-{i}", "v", i))
        except Exception as error:  # noqa: BLE001 - asserted below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    keys = {i["key"]["S"] for i in dynamodb.scan(TableName=TABLE)["Items"]}
    assert {f"t{n}-{i}" for n in range(4) for i in range(20)} <= keys


def test_rejects_an_endpoint_that_is_not_http():
    with pytest.raises(ValueError, match="http://"):
        WireClient("ftp://127.0.0.1:1", "eu-central-1")


class _ClosesAfterEachAnswer(socketserver.StreamRequestHandler):
    """Answers HTTP/1.1 without "Connection: close", then closes: what a region process that restarted looks like
    to a client holding a kept-alive connection. Raw TCP, so nothing adds a header or keeps the connection."""

    seen = 0

    def handle(self):
        headers = {}
        self.rfile.readline()  # the request line
        while (line := self.rfile.readline().strip()):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        self.rfile.read(int(headers.get("content-length", 0)))
        type(self).seen += 1
        body = b'{"ok": true}'
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True


def test_a_dropped_keep_alive_connection_is_reopened_once():
    server = _Server(("127.0.0.1", 0), _ClosesAfterEachAnswer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = WireClient(f"http://127.0.0.1:{server.server_address[1]}", "eu-central-1")
        assert client.describe_table(TableName=TABLE) == {"ok": True}
        assert client.describe_table(TableName=TABLE) == {"ok": True}  # the first connection is gone by now
        assert _ClosesAfterEachAnswer.seen == 2
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_server_that_is_gone_raises_a_connection_error():
    server = _Server(("127.0.0.1", 0), _ClosesAfterEachAnswer)
    port = server.server_address[1]
    server.server_close()
    with pytest.raises(OSError):
        WireClient(f"http://127.0.0.1:{port}", "eu-central-1", timeout_s=2).describe_table(TableName=TABLE)

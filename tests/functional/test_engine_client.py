"""The timed client's connection handling against raw sockets on 127.0.0.1 that misbehave in known ways."""

import socket
import threading

import pytest

from dashboard.measure.timed_client import TimedClient

RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nServer-Timing: db;dur=1.5, app;dur=2.5\r\n"
    b"X-Served-Region: eu-central-1\r\nContent-Length: %d\r\n\r\n%s"
)


class RawServer:
    """Answers each request with RESPONSE, then closes the connection (without saying so) when ``close_after``."""

    def __init__(self, close_after: bool):
        self.close_after = close_after
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/dev"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk
                _, buffer = buffer.split(b"\r\n\r\n", 1)
                body = b'{"key": "k", "value": "v", "writeRegion": "us-west-2", "readRegion": "eu-central-1"}'
                conn.sendall(RESPONSE % (len(body), body))
                if self.close_after:
                    return

    def stop(self):
        self.sock.close()


@pytest.fixture
def server_factory():
    servers = []

    def make(close_after):
        servers.append(RawServer(close_after))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()


def test_keep_alive_reuses_one_connection_and_marks_only_the_first_request(server_factory):
    server = server_factory(close_after=False)
    with TimedClient("eu-central-1", server.url) as client:
        rows = [client.read("k").row for _ in range(5)]
    assert [r["new_connection"] for r in rows] == [True, False, False, False, False]
    assert rows[0]["connect_ms"] > 0 and all(r["connect_ms"] == 0 for r in rows[1:])
    assert server.connections == 1
    row = rows[-1]
    assert (row["server_app_ms"], row["server_db_ms"]) == (2.5, 1.5)
    assert row["network_ms"] == pytest.approx(row["latency_ms"] - 2.5)
    assert row["served_region"] == "eu-central-1"  # the router's header wins over the body
    assert (row["value"], row["write_region"]) == ("v", "us-west-2")


def test_a_connection_closed_by_the_server_is_retried_once_on_a_new_one(server_factory):
    server = server_factory(close_after=True)
    with TimedClient("eu-central-1", server.url) as client:
        rows = [client.read("k").row for _ in range(4)]
    assert all(r["ok"] for r in rows), [r["error"] for r in rows]
    assert all(r["new_connection"] for r in rows)  # each request paid for its own connection, and says so
    assert server.connections == 4

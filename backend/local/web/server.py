"""``WebServer``: one local endpoint served by uvicorn on a loopback socket, in a thread of its own.

Why uvicorn (with httptools and uvloop) rather than ``http.server``: one region's GET throughput under wrk rose
from ~590-640 to ~770-800 requests/s on this 2-core machine (bench/local_cloud.py measures it against in-process
moto in every ``make bench``); asyncio sleeps carry the network model's delays without a thread per request; and
one toolkit serves every endpoint. The socket is bound here (port 0 allowed) and handed to uvicorn, so the caller
knows the port before the first request and nothing ever binds a wildcard address.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn

from backend.local.loopback import is_loopback
from backend.local.web.protocol import JsonErrorsProtocol

# Idle keep-alive connections are closed after this long; the geo router and Python clients reconnect on their own.
KEEP_ALIVE_S = 60
# "uvloop" where requests are the hot path: one region's stage served ~357 GET/s on asyncio's loop against ~700-730 on
# uvloop (wrk -t2 -c16, same process, 4 interleaved rounds). "asyncio" saves ~1.2 MB where only admin calls arrive.
LOOPS = ("uvloop", "asyncio")
START_TIMEOUT_S = 10.0


class WebServer:
    """``WebServer(app, host, port).start()``; ``url``, ``address``, ``stop()`` (graceful), ``close()`` (at exit)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, name: str = "web", loop: str = "uvloop"):
        if not is_loopback(host):
            raise ValueError(f"{name}: listen on a loopback address (127.0.0.1 or ::1), not {host!r}")
        if loop not in LOOPS:
            raise ValueError(f"{name}: loop must be one of {', '.join(LOOPS)}, not {loop!r}")
        self.app, self.host, self.port, self.name, self.loop = app, host, port, name, loop
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> WebServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, self.port))
        config = uvicorn.Config(
            self.app,
            http=JsonErrorsProtocol,
            loop=self.loop,
            ws="none",  # no endpoint speaks WebSocket; uvicorn would import the websockets package (~1.5 MB a process)
            lifespan="off",
            access_log=False,
            proxy_headers=False,  # nothing proxies a local endpoint; saves a middleware on every request
            log_config=None,  # the process configures logging; uvicorn must not replace it
            log_level=logging.WARNING,
            server_header=False,  # the app sets its own (web.app._DefaultHeaders)
            date_header=False,
            timeout_keep_alive=KEEP_ALIVE_S,
            timeout_graceful_shutdown=1,
            backlog=128,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name=self.name, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: the HTTP server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
            self._server = None
        self.close()

    def close(self) -> None:
        """Closes the listening socket without waiting for open requests (the process is about to exit)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    @property
    def address(self) -> tuple[str, int]:
        return self._socket.getsockname()[:2]

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

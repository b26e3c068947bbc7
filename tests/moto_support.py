"""moto's HTTP server for tests that need a DynamoDB endpoint but not a whole region process."""

import logging
from contextlib import contextmanager

from moto.server import ThreadedMotoServer


@contextmanager
def moto_server():
    """Starts moto's server on 127.0.0.1 and a free port; yields its URL; stops it on the way out."""
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto logs a traceback for each bad request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()

"""A stand-in for AWS's public DynamoDB endpoints, for ``mrkv-probe ping`` tests: HTTPS on 127.0.0.1 (in a process
of its own) with a test certificate, ``GET /<region>/ping`` answered after that region's injected delay, every TLS handshake after
``tls_delay_ms``.

What the delays stand for: a server ``d`` ms away answers each flight of the client ``d`` ms late. The kernel
accepts TCP connections itself, so the connect step stays at loopback speed (~0.1 ms); the TLS handshake waits
``tls_delay_ms`` (one flight for TLS 1.3); each request's response waits the region's delay. The client thus sees
connect ≈ 0, TLS ≈ ``tls_delay_ms``, first byte ≈ the region's delay, on new and warm connections alike.

The certificate (a self-signed CA that is also the server certificate, SAN 127.0.0.1 and localhost) is made with
``cryptography`` (already installed: moto depends on it); ``cafile`` is its PEM, for the client to trust.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate PEM, key PEM) of a self-signed certificate for 127.0.0.1 / localhost, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mrkv ping stand-in")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "stand-in-cert.pem", directory / "stand-in-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _answer(path: str, delays_ms: dict) -> bytes:
    parts = path.strip("/").split("/")
    delay_ms = delays_ms.get(parts[0]) if len(parts) == 2 and parts[1] == "ping" else None
    if delay_ms is None:
        status, body = "404 Not Found", b"unknown region\n"
    else:
        time.sleep(delay_ms / 1000)
        status, body = "200 OK", f"healthy: dynamodb.{parts[0]}.amazonaws.com".encode()
    head = f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _serve_connection(raw: socket.socket, context: ssl.SSLContext, delays_ms: dict, tls_delay_ms: float) -> None:
    """One connection: wait, TLS handshake, then GET requests (keep-alive) until the client closes."""
    with raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        time.sleep(tls_delay_ms / 1000)
        try:
            tls = context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            return
        buffered = b""
        with tls:
            while True:
                while b"\r\n\r\n" not in buffered:
                    try:
                        chunk = tls.recv(4096)
                    except (ssl.SSLError, OSError):
                        return
                    if not chunk:
                        return
                    buffered += chunk
                head, buffered = buffered.split(b"\r\n\r\n", 1)
                path = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
                tls.sendall(_answer(path, delays_ms))


class _Listener:
    """The server itself: accepts on 127.0.0.1 and serves each connection in its own thread."""

    def __init__(self, cert: Path, key: Path, delays_ms: dict, tls_delay_ms: float, port: int = 0):
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._delays_ms, self._tls_delay_ms = dict(delays_ms), tls_delay_ms
        self.socket = socket.create_server(("127.0.0.1", port))

    def serve_forever(self) -> None:
        while True:
            try:
                raw, _ = self.socket.accept()
            except OSError:  # closed: stop
                return
            threading.Thread(
                target=_serve_connection,
                args=(raw, self._context, self._delays_ms, self._tls_delay_ms),
                daemon=True,
            ).start()


class PingStandIn:
    """``with PingStandIn(tmp_path, {"us-east-1": 40}, tls_delay_ms=30) as stand_in:`` ``stand_in.template``.

    The server runs in its own process (``python tests/ping_stand_in.py``), so its threads never hold the GIL the
    client's timing needs; the parent makes the certificate and reads the port from the child's READY line."""

    def __init__(self, directory: Path, delays_ms: dict, tls_delay_ms: float = 0.0):
        self.cafile, self._key = make_certificate(Path(directory))
        self._delays_ms, self._tls_delay_ms = dict(delays_ms), tls_delay_ms
        self._process: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def template(self) -> str:
        return f"https://127.0.0.1:{self.port}/{{region}}/ping"

    def __enter__(self):
        arguments = [str(self.cafile), str(self._key), json.dumps(self._delays_ms), str(self._tls_delay_ms)]
        self._process = subprocess.Popen(
            [sys.executable, __file__, *arguments], stdout=subprocess.PIPE, text=True
        )
        line = self._process.stdout.readline()
        if not line.startswith("READY "):
            self._process.kill()
            raise RuntimeError(f"the ping stand-in did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(self, *exc):
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()


if __name__ == "__main__":  # the child: serve until SIGTERM
    cert_path, key_path, delays, tls_delay = sys.argv[1:5]
    listener = _Listener(Path(cert_path), Path(key_path), json.loads(delays), float(tls_delay))
    print(f"READY {listener.socket.getsockname()[1]}", flush=True)
    listener.serve_forever()

"""The HTTP/1.1 parser of every local endpoint: uvicorn's httptools protocol, with errors answered as JSON.

uvicorn answers a request it cannot parse with a plain-text 400 ("Invalid HTTP request received.") and has no limit
on the request line or the headers. API Gateway answers its own errors as JSON ``{"message": …}``, and a client of
the local cloud must never get a page it cannot parse. This protocol:

- answers a method that is not an HTTP token llhttp knows (``BREW``) with 501, any other parse error (a
  Content-Length that is not a number or negative, a bad chunk size) with 400, both as JSON;
- refuses a request target over ``MAX_LINE_BYTES`` with 414, a header line over it or more than ``MAX_HEADERS``
  headers with 431 (the limits ``http.server`` had, so the bad-input table keeps its meaning; API Gateway's own
  limits are lower: https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html);
- percent-encodes raw non-ASCII bytes of the request line before the parser sees them (curl sends ``/dev/wörld``
  as raw UTF-8, which llhttp refuses): encoded, the key is the same as ``/dev/w%C3%B6rld``, and bytes that are not
  UTF-8 fail to decode exactly as ``%FF`` does. A request line is where a message begins; a pipelined request
  that begins mid-segment is parsed as sent.

Written against uvicorn 0.54 (``uvicorn.protocols.http.httptools_impl.HttpToolsProtocol``): ``on_url``,
``on_header``, ``on_headers_complete``, ``data_received`` and ``transport``; tests/functional/test_web_kit.py fails
loudly if they change.
"""

from __future__ import annotations

import json

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_LINE_BYTES = 65_536
MAX_HEADERS = 100
_REASONS = {400: "Bad Request", 414: "URI Too Long", 431: "Request Header Fields Too Large", 501: "Not Implemented"}


class _Refused(Exception):
    """Raised inside a parser callback: the request breaks a limit; answer ``status`` and close."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def protocol_error_bytes(status: int, message: str) -> bytes:
    """A complete HTTP/1.1 response: JSON ``{"message": …}``, the connection closed after it."""
    body = json.dumps({"message": message}).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def encode_non_ascii(line: bytes) -> bytes:
    """``line`` with every byte above 0x7F percent-encoded (one byte at a time, so a line split across segments
    is encoded the same as whole)."""
    if line.isascii():
        return line
    return b"".join(b"%%%02X" % byte if byte > 0x7F else bytes((byte,)) for byte in line)


class JsonErrorsProtocol(HttpToolsProtocol):
    """``uvicorn.Config(http=JsonErrorsProtocol)``: see the module docstring."""

    _in_request_line = True

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_request_line = True

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_LINE_BYTES:
            raise _Refused(414, "Request-URI Too Long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > MAX_HEADERS:
            raise _Refused(431, "Too many headers")
        if len(name) + len(value) > MAX_LINE_BYTES:
            raise _Refused(431, "Line too long")
        super().on_header(name, value)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._in_request_line:
            end = data.find(b"\n")
            if end < 0:
                data = encode_non_ascii(data)
            else:
                data = encode_non_ascii(data[:end]) + data[end:]
                self._in_request_line = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()
        except httptools.HttpParserInvalidMethodError:
            self._refuse(501, "Unsupported method")
        except httptools.HttpParserCallbackError as error:
            refused = error.__context__ if isinstance(error.__context__, _Refused) else None
            self._refuse(*(refused.status, refused.message) if refused else (400, "Bad Request"))
        except _Refused as refused:
            self._refuse(refused.status, refused.message)
        except httptools.HttpParserError as error:
            self._refuse(400, f"Bad Request: {error}" if str(error) else "Bad Request")

    def _refuse(self, status: int, message: str) -> None:
        if not self.transport.is_closing():
            self.transport.write(protocol_error_bytes(status, message))
            self.transport.close()

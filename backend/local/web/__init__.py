"""The one HTTP toolkit of the local cloud's endpoints (Starlette routes, served by uvicorn): see ``app`` and ``server``."""

from backend.local.web.app import (
    HTTPError,
    RawResponse,
    json_endpoint,
    json_response,
    read_body,
    read_json_object,
    request_target,
    web_app,
    with_network_delay,
)
from backend.local.web.server import WebServer

__all__ = [
    "HTTPError",
    "RawResponse",
    "WebServer",
    "json_endpoint",
    "json_response",
    "read_body",
    "read_json_object",
    "request_target",
    "web_app",
    "with_network_delay",
]

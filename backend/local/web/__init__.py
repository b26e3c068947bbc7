"""The one HTTP toolkit of the local cloud's endpoints (Starlette routes, served by uvicorn): see ``app`` and ``server``."""

from backend.local.web.app import (
    HTTPError,
    json_response,
    raw_response,
    read_body,
    read_json_object,
    web_app,
    with_network_delay,
)
from backend.local.web.server import WebServer

__all__ = [
    "HTTPError",
    "WebServer",
    "json_response",
    "raw_response",
    "read_body",
    "read_json_object",
    "web_app",
    "with_network_delay",
]

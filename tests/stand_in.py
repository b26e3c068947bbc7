"""Test stand-ins for other parts of the cloud (a region, an admin API), served by the project's own HTTP kit."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from backend.local.web import RawResponse, WebServer, request_target, web_app


@dataclass
class SeenRequest:
    method: str
    path: str  # the raw target, query included, as a region would see it
    headers: dict  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body) if self.body else None


class _Endpoint:
    def __init__(self, answer):
        self.answer = answer

    async def __call__(self, scope, receive, send):
        request = Request(scope, receive)
        target = request_target(scope)
        seen = SeenRequest(request.method, target, dict(request.headers), await request.body())
        status, document, *headers = await run_in_threadpool(self.answer, seen)
        payload = document if isinstance(document, bytes) else json.dumps(document).encode()
        head = list((headers[0] if headers else {"Content-Type": "application/json"}).items())
        await RawResponse(status, head, payload)(scope, receive, send)


class StandIn:
    """``StandIn(answer)``: every request goes to ``answer(SeenRequest) -> (status, document or bytes[, headers])``,
    in a worker thread (an answer may sleep: a stand-in for a slow network)."""

    def __init__(self, answer: Callable[[SeenRequest], tuple[int, object]]):
        self.server = WebServer(web_app([], "stand-in", fallback=_Endpoint(answer))).start()

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()

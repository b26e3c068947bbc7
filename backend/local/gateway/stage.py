"""One region's API Gateway stage as an HTTP app: every request becomes a proxy event for the Lambda handlers.

The region (``backend.local.region``) decides the answer (``serve``: routing, the handler, the event and response
conversion in ``events``); this app only reads the request, applies the network model's delay and writes the
answer. The handler runs in the event loop itself: a call takes ~1 ms of CPU under in-process moto, and the GIL
would serialize a thread pool anyway, so inline is the fastest (bench: one region's GET ceiling under wrk). The
delay is an asyncio sleep, so slow answers never queue behind each other.

The region's admin routes are mounted under ``/__admin`` (loopback only, never delayed).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Mount

from backend.local.gateway import events
from backend.local.web import HTTPError, RawResponse, read_body, request_target, web_app, with_network_delay

SERVER_NAME = "local-apigateway"


class _Stage:
    """Every method and path of the stage (a plain ASGI app: the kit's fallback, so any method and path reach it)."""

    def __init__(self, region):
        self.region = region

    async def __call__(self, scope, receive, send):
        request = Request(scope, receive)
        close = False
        try:
            body = await read_body(request)
        except HTTPError as error:
            if error.status != 413:
                raise
            body, close = None, True  # the region answers API Gateway's 413; the rest was never read
        target = request_target(scope)
        client = scope.get("client")
        # Behind the geo router, the router adds the delay of the whole path (events.HOP_HEADER).
        delay = 0.0 if events.HOP_HEADER in request.headers else self.region.settings.delay_s()

        async def answer():
            arguments = (request.method, target, list(request.headers.items()), body, client[0] if client else "")
            if getattr(self.region, "blocking", False):  # MRSC: a write waits a round trip for another region
                result = await run_in_threadpool(self.region.serve, *arguments)
            else:
                result = self.region.serve(*arguments)
            headers = result.headers + ([("Connection", "close")] if close else [])
            return RawResponse(result.status, headers, result.body)

        response = await with_network_delay(delay, answer)
        await response(scope, receive, send)


def stage_app(region, admin_routes: list):
    """The region's HTTP app: ``/__admin/...`` (``admin_routes``, loopback only), then the stage for the rest."""
    admin = web_app(admin_routes, SERVER_NAME, loopback_only=True)
    return web_app(
        [Mount("/__admin", app=admin)], SERVER_NAME, error_field="message", fallback=_Stage(region)
    )

"""A region's admin API (loopback only, never delayed), mounted at ``/__admin`` of its gateway:

``GET /__admin/config`` and ``POST|PUT /__admin/config`` {"network", "client_location", "down", "clock_offset_ms",
"jitter_fraction"} (a partial change; nothing applied on a bad field), ``POST /__admin/reset`` (drop and recreate the
table: a new stream, as on AWS), ``POST /__admin/stream/trim`` {"upto": seq|null, "stream": ARN}, ``GET
/__admin/status`` (endpoints, settings, RSS), ``POST /__admin/dynamodb`` (the DynamoDB and Streams JSON API of this
region's tables, answered in-process: the replicator's door, see ``backend/local/dynamodb/in_process.py``).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from backend.local.dynamodb import in_process
from backend.local.memory import rss_bytes
from backend.local.web import HTTPError, RawResponse, json_response, read_body, read_json_object


def admin_routes(region) -> list[Route]:
    """The routes over ``region`` (a ``RegionServer``: ``settings``, ``reset()``, ``trim_stream()``, ``describe()``)."""

    async def get_config(request):
        return json_response(200, region.settings.snapshot())

    async def set_config(request):
        changes = await read_json_object(request)
        try:
            region.settings.update(changes)
        except ValueError as error:
            raise HTTPError(400, str(error)) from None
        return json_response(200, region.settings.snapshot())

    async def reset(request):
        await run_in_threadpool(region.reset)
        return json_response(200, {"region": region.region, "reset": True})

    async def trim(request):
        status, answer = await run_in_threadpool(region.trim_stream, await read_body(request))
        return json_response(status, answer)

    async def status(request):
        return json_response(
            200, {**region.describe(), **region.settings.snapshot(), "rss_bytes": rss_bytes()}
        )

    async def dynamodb(request):
        # Inline, as the stage runs its handler: ~1 ms of moto CPU, which a thread pool would only serialize (GIL).
        status, body = in_process.answer(
            region.region, request.headers.get("x-amz-target", ""), await read_body(request)
        )
        return RawResponse(status, [("Content-Type", in_process.CONTENT_TYPE)], body)

    return [
        Route("/dynamodb", dynamodb, methods=["POST"]),
        Route("/config", get_config, methods=["GET"]),
        Route("/config", set_config, methods=["POST", "PUT"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/stream/trim", trim, methods=["POST"]),
        Route("/status", status, methods=["GET"]),
    ]

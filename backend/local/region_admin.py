"""A region's admin API (loopback only, never delayed), mounted at ``/__admin`` of its gateway:

``GET /__admin/config`` and ``POST|PUT /__admin/config`` {"network", "client_location", "down", "clock_offset_ms",
"jitter_fraction", "isolated"} (a partial change; nothing applied on a bad field), ``POST /__admin/reset`` (drop and recreate the
table: a new stream, as on AWS), ``POST /__admin/stream/trim`` {"upto": seq|null, "stream": ARN}, ``GET
/__admin/status`` (endpoints, settings, RSS), ``POST /__admin/dynamodb`` (the DynamoDB and Streams JSON API of this
region's tables, answered in-process: the replicator's door, see ``backend/local/dynamodb/in_process.py``; the
other regions' strongly consistent questions too), ``POST /__admin/peers`` {"doors": {region: door URL}} (how this
region reaches the others of an MRSC table, ``backend/local/dynamodb/strong_peers.py``).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from backend.local.dynamodb import in_process, strong_peers
from backend.local.memory import rss_bytes
from backend.local.web import HTTPError, RawResponse, json_response, read_body, read_json_object

STRONG_OPERATIONS = ("StrongAccept", "StrongRead")


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
        # A strongly consistent peer's question may wait for a pending write of its key: that one waits in a thread.
        target, body = request.headers.get("x-amz-target", ""), await read_body(request)
        if target.rsplit(".", 1)[-1] in STRONG_OPERATIONS:
            status, body = await run_in_threadpool(in_process.answer, region.region, target, body)
        else:
            status, body = in_process.answer(region.region, target, body)
        return RawResponse(status, [("Content-Type", in_process.CONTENT_TYPE)], body)

    async def peers(request):
        document = await read_json_object(request)
        try:
            strong_peers.set_doors(document.get("doors"))
        except ValueError as error:
            raise HTTPError(400, str(error)) from None
        return json_response(200, {"doors": strong_peers.doors()})

    return [
        Route("/dynamodb", dynamodb, methods=["POST"]),
        Route("/peers", peers, methods=["POST", "PUT"]),
        Route("/config", get_config, methods=["GET"]),
        Route("/config", set_config, methods=["POST", "PUT"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/stream/trim", trim, methods=["POST"]),
        Route("/status", status, methods=["GET"]),
    ]

"""The regions' replicator door (``POST /__admin/dynamodb`` of a region process) for tests that run moto in-process:
one loopback server answering ``/<region>`` with ``in_process.answer`` for that region's tables."""

from contextlib import contextmanager

from starlette.routing import Route

from backend.local.dynamodb import in_process, replica_door
from backend.local.web import RawResponse, WebServer, read_body, web_app


@contextmanager
def door_server():
    """Yields the base URL; the door of region R is ``<url>/R``. Installs the hidden-versions hooks first."""
    replica_door.install()

    async def door(request):
        status, body = in_process.answer(
            request.path_params["region"], request.headers.get("x-amz-target", ""), await read_body(request)
        )
        return RawResponse(status, [("Content-Type", in_process.CONTENT_TYPE)], body)

    server = WebServer(web_app([Route("/{region}", door, methods=["POST"])], "test-door"), loop="asyncio")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()

"""GET /{key}: the value, the region that wrote it and the region reading it."""

from backend.handlers._runtime import cors_origin, service
from backend.http import handle


def main(event, context):
    return handle(event, lambda request: service().get_key(request.key), cors_origin())

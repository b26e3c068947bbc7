"""GET /_health: 200 when this region's function can reach its table (Route 53 and the local geo router poll it)."""

from backend.handlers._runtime import cors_origin, service
from backend.http import handle


def main(event, context):
    return handle(event, lambda request: service().health(), cors_origin())

"""GET /{key}[?consistent=true]: the value, the region that wrote it and the region reading it."""

from backend.handlers._runtime import cors_origin, service
from backend.http import handle
from backend.items import parse_consistent, validate_key


def main(event, context):
    def get_key(request):
        key = validate_key(request.key)  # a bad key is reported before a bad query, as the path comes first
        return service().get_key(key, consistent=parse_consistent(request.query("consistent")))

    return handle(event, get_key, cors_origin())

"""POST /{key} with {"value": "..."}: stores the value with this region and the time it was written."""

from backend.handlers._runtime import cors_origin, service
from backend.http import handle
from backend.items import parse_value, validate_key


def main(event, context):
    def set_key(request):
        key = validate_key(request.key)  # a bad key is reported before a bad body, as the path comes first
        return service().set_key(key, parse_value(request.body))

    return handle(event, set_key, cors_origin())

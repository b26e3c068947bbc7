"""DELETE /{key}: removes the key in this region; deleting a missing key is not an error."""

from backend.handlers._runtime import cors_origin, service
from backend.http import handle


def main(event, context):
    return handle(event, lambda request: service().delete_key(request.key), cors_origin())

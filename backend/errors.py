"""Typed errors of the API. Each carries its HTTP status; ``backend.http`` maps them to responses in one place."""


class ApiError(Exception):
    """An error the client is told about: its message goes into ``{"error": ...}``."""

    status = 500

    def __init__(self, message: str, *, retry_after_s: int | None = None):
        super().__init__(message)
        self.message = message
        self.headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else {}


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class PayloadTooLarge(ApiError):
    status = 413


class Conflict(ApiError):
    """Another region is writing the same item at this moment (a multi-Region strongly consistent table refused the
    write): nothing was written, and the client may retry."""

    status = 409


class UnrepresentableItem(ApiError):
    """The item exists but another DynamoDB client wrote it in a shape this API cannot answer (no string value)."""

    status = 422


class ServiceUnavailable(ApiError):
    """DynamoDB throttled us or cannot be reached: the client may retry."""

    status = 503


class InternalError(ApiError):
    """Anything unexpected. The message stays generic; the detail goes to the log only."""

    status = 500

"""AWS limits the API enforces, each next to the documentation it comes from.

Kept in one place so that the handlers, the local cloud and the tests agree on them.
"""

# DynamoDB partition key: 1 to 2048 bytes of UTF-8.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys
MIN_KEY_BYTES = 1
MAX_KEY_BYTES = 2048

# DynamoDB item: "400 KB", counting attribute names and values. We take 400,000 bytes, the decimal reading:
# DynamoDB itself accepts up to ~409,600 and moto up to 405,000, so anything we accept is stored everywhere.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items
MAX_ITEM_BYTES = 400_000

# A DynamoDB number takes about one byte per two significant digits plus one; an epoch-millisecond
# timestamp (13 digits) is at most 21 bytes, the documented upper bound for any number.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
MAX_NUMBER_BYTES = 21

# Lambda synchronous invocation payload (request and response): 6 MB.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024

# API Gateway REST: 10,000 requests per second per account and region by default.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
API_GATEWAY_DEFAULT_RPS = 10_000

# Error codes DynamoDB answers when it throttles a request; the client should retry later.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
THROTTLING_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    }
)

# Seconds a throttled client is told to wait (the SDKs' first back-off step is of this order).
THROTTLED_RETRY_AFTER_S = 1

# DynamoDB's answer (HTTP 400) to a write on a multi-Region strongly consistent (MRSC) table while a request in another
# region is modifying the same item: the write was rejected, nothing changed, and it is safe to retry.
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html#API_PutItem_Errors
WRITE_CONFLICT_ERROR_CODE = "ReplicatedWriteConflictException"
WRITE_CONFLICT_RETRY_AFTER_S = 1

# DynamoDB's server-side failures (HTTP 500 and 503), documented "OK to retry". An MRSC region cut off from the other
# regions answers writes and strongly consistent reads this way (its eventually consistent reads keep working).
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
SERVER_ERROR_CODES = frozenset({"InternalServerError", "ServiceUnavailable"})
UNAVAILABLE_RETRY_AFTER_S = 1

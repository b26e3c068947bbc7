"""The local cloud's own limits, each with the AWS document it follows (the domain's are in ``backend/limits.py``)."""

# API Gateway REST API payload limit: 10 MB. Every local endpoint reads bodies with this one limit (web.read_body).
# https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
MAX_BODY_BYTES = 10 * 1024 * 1024

"""DynamoDB's refusals on a multi-Region strongly consistent (MRSC) table, answered at the wire of a real boto3 client.

A ``before-send`` hook returns the HTTP response DynamoDB's JSON protocol would send; botocore parses it into its
ClientError and runs it through its retry logic exactly as it would a response from the network. (Moto does not model
MRSC; botocore's Stubber would skip the retry logic, which is part of what the tests check.)
"""

import json

from botocore.awsrequest import AWSResponse

WRITE_CONFLICT = (
    400,
    "com.amazonaws.dynamodb.v20120810#ReplicatedWriteConflictException",
    "The request was rejected because one or more items in the request are being modified by a request in another"
    " Region.",
)
CUT_OFF = (500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error")


def answer_at_the_wire(client, operation: str, refusal: tuple[int, str, str], when=lambda request: True) -> list:
    """Makes DynamoDB answer ``operation`` with ``refusal`` (status, __type, message) as its JSON protocol does, for
    the requests ``when`` accepts; the list returned grows by one each time botocore sends such a request (a retry
    would send it again)."""
    status, error_type, message = refusal
    body = json.dumps({"__type": error_type, "message": message}).encode()
    sent = []

    def respond(request, **kwargs):
        if not when(json.loads(request.body)):
            return None  # on to moto
        sent.append(request)
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "R" * 52}
        return AWSResponse(request.url, status, headers, _Raw(body))

    client.meta.events.register(f"before-send.dynamodb.{operation}", respond)
    return sent


class _Raw:
    """The raw (urllib3) response body botocore streams from."""

    def __init__(self, body: bytes):
        self._body = body

    def stream(self, *args, **kwargs):
        yield self._body

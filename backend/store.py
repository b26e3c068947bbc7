"""DynamoDB behind a small interface. The client is injected; nothing here reads the environment."""

import logging

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as SdkConnectionError

from backend import limits
from backend.errors import Conflict, InternalError, PayloadTooLarge, ServiceUnavailable
from backend.items import Item
from backend.timing import db_call

log = logging.getLogger(__name__)


def table_definition(table_name: str) -> dict:
    """``create_table`` arguments of the key-value table, as serverless.yml declares it (for local use and tests)."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": [{"AttributeName": "key", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "key", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


# The DynamoDB client's configuration: no SDK retries, so every refusal is answered at once with a status and a
# Retry-After that let the caller decide (retry, wait, or go to another region). A write that lost a race to another
# region (ReplicatedWriteConflictException) is the caller's to repeat, not ours, yet botocore retries it: its standard
# mode (the default of recent botocore) because the model marks it retryable, its legacy mode (the default of older
# ones) when it comes as a 409. Legacy mode also retries an HTTP 500 nine times over ~25 s, past the function's 6 s
# timeout: API Gateway would answer 502, not our 503. botocore offers no way to exempt one error code from its retries.
CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1})


class DynamoStore:
    """Reads and writes items of one table through a low-level boto3 DynamoDB client."""

    def __init__(self, client, table_name: str):
        self._client = client
        self.table_name = table_name

    def put(self, item: Item) -> None:
        with _translated("write your key"), db_call():
            self._client.put_item(TableName=self.table_name, Item=item.to_dynamodb())

    def get(self, key: str, consistent: bool = False) -> Item | None:
        with _translated("retrieve your key"), db_call():
            answer = self._client.get_item(
                TableName=self.table_name, Key={"key": {"S": key}}, ConsistentRead=consistent
            )
        attributes = answer.get("Item")
        return Item.from_dynamodb(attributes) if attributes else None

    def delete(self, key: str) -> bool:
        """Deletes the key; True if it existed. Deleting a missing key is not an error."""
        with _translated("delete your key"), db_call():
            answer = self._client.delete_item(
                TableName=self.table_name, Key={"key": {"S": key}}, ReturnValues="ALL_OLD"
            )
        return bool(answer.get("Attributes"))

    def ping(self) -> None:
        """Raises ServiceUnavailable unless the table can be reached and is usable."""
        with _translated("reach the table", unavailable=True), db_call():
            status = self._client.describe_table(TableName=self.table_name)["Table"].get("TableStatus")
        if status not in ("ACTIVE", "UPDATING"):
            raise ServiceUnavailable(f"The table is {status}.")


class _translated:
    """Turns SDK errors into the API's typed errors; the detail is logged, never sent to the client."""

    def __init__(self, action: str, unavailable: bool = False):
        self.action = action
        self.unavailable = unavailable

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or not isinstance(error, (ClientError, BotoCoreError)):
            return False
        raise self._typed(error) from error

    def _typed(self, error: ClientError | BotoCoreError) -> Exception:
        code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
        message = error.response.get("Error", {}).get("Message", "") if isinstance(error, ClientError) else ""
        level = logging.WARNING if code in _EXPECTED_CODES else logging.ERROR
        log.log(level, "DynamoDB call failed while trying to %s: %s %s", self.action, code or type(error).__name__, error)
        if code in limits.THROTTLING_ERROR_CODES:
            return ServiceUnavailable(
                "DynamoDB is throttling requests; retry later.", retry_after_s=limits.THROTTLED_RETRY_AFTER_S
            )
        if code == limits.WRITE_CONFLICT_ERROR_CODE:
            return Conflict(
                f"This key is being written in another region at this same moment, so this region did NOT"
                f" {self.action}: nothing changed. Retry in a moment.",
                retry_after_s=limits.WRITE_CONFLICT_RETRY_AFTER_S,
            )
        if code in limits.SERVER_ERROR_CODES or isinstance(error, (SdkConnectionError, HTTPClientError)):
            return ServiceUnavailable(
                f"DynamoDB could not {self.action} just now: it failed or could not be reached, or this region is cut"
                " off from the other regions of a strongly consistent table. Retry later, or in another region.",
                retry_after_s=limits.UNAVAILABLE_RETRY_AFTER_S,
            )
        if code == "ValidationException" and "size" in message.lower():
            return PayloadTooLarge(f"The item exceeds DynamoDB's limit of {limits.MAX_ITEM_BYTES} bytes (400 KB).")
        if self.unavailable:
            return ServiceUnavailable(f"Unable to {self.action}.")
        return InternalError(f"Sorry, an error occurred while trying to {self.action}.")


_EXPECTED_CODES = limits.THROTTLING_ERROR_CODES | {limits.WRITE_CONFLICT_ERROR_CODE}

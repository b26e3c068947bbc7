"""TransactWriteItems, BatchWriteItem and PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction)
answer in JSON, with DynamoDB's status and error type, whatever the request.

moto 5.2.5's handlers for these index the request without checking it: a missing ``TransactItems`` or
``RequestItems``, a write request that is neither a Put nor a Delete, a PartiQL statement that does not parse
(``py_partiql_parser.ParserException``) each raised a Python error that moto's server answered with HTTP 500 and an
HTML page, which boto3 reports as an unknown error and the AWS CLI retries for ~27 s. AWS answers these with a 400
``ValidationException`` (DynamoDB API Reference, "Common Errors" and each action's page). Also:

- BatchWriteItem: moto wrote the batch's requests one by one, so a bad key in the third request left the first two
  written; DynamoDB refuses such a batch whole, so the keys (and the 25-request limit) are checked first.
- PartiQL writes go to moto's ``Table.put_item`` / ``delete_item`` directly, around the write lock that serializes
  every other write (``patches.WRITE_LOCK``), after reading every item: a concurrent write could interleave. The
  backend's statement methods take the lock here (a SELECT too: it iterates the table's items).

Anything else these handlers raise is answered as DynamoDB's ``InternalServerError`` (500, JSON), never HTML.
"""

from __future__ import annotations

import functools

from backend.local.dynamodb.transactions import OPERATIONS, key_of

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
MAX_BATCH_WRITE = 25  # AWS: "up to 25 put or delete requests" (BatchWriteItem)
MAX_BATCH_STATEMENTS = 25  # AWS: BatchExecuteStatement takes 1-25 statements
_CHECKED = "_checked_by_backend_local"


def _validation(message: str):
    from moto.dynamodb.exceptions import MockValidationException

    return MockValidationException(message)


def _null(member: str):
    return _validation(
        f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    )


def _length(member: str, value, bound: str):
    return _validation(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
        f"Member must have length {bound}"
    )


def check_transact_write_items(handler) -> None:
    items = handler.body.get("TransactItems")
    if items is None:
        raise _null("transactItems")
    if not isinstance(items, list) or not items:
        raise _length("transactItems", items, "greater than or equal to 1")
    for action in items:  # moto's handler reads the first member of each, whatever it is
        if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in OPERATIONS:
            raise _validation("TransactItems can only contain one of Check, Put, Update or Delete")
        if not isinstance(next(iter(action.values())), dict):
            raise _validation("TransactItems can only contain one of Check, Put, Update or Delete")
    # keys, tables and conditions are checked by transactions.transact_write_items, under the write lock


def check_batch_write_item(handler) -> None:
    tables = handler.body.get("RequestItems")
    if tables is None:
        raise _null("requestItems")
    if not isinstance(tables, dict) or not tables:
        raise _length("requestItems", tables, "greater than or equal to 1")
    if (
        sum(len(requests) if isinstance(requests, list) else 1 for requests in tables.values())
        > MAX_BATCH_WRITE
    ):
        raise _validation("Too many items requested for the BatchWriteItem call")
    for name, requests in tables.items():
        if not isinstance(requests, list) or not requests:
            raise _length(f"requestItems.{name}.member", requests, "greater than or equal to 1")
        table = handler.dynamodb_backend.get_table(name)  # ResourceNotFoundException, as on AWS
        for position, request in enumerate(requests, start=1):
            kinds = [
                kind
                for kind in ("PutRequest", "DeleteRequest")
                if isinstance(request, dict) and kind in request
            ]
            if len(kinds) != 1 or len(request) != 1 or not isinstance(request[kinds[0]], dict):
                raise _validation(
                    "Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest "
                    f"(requestItems.{name}.member.{position})"
                )
            if kinds[0] == "PutRequest":
                key_of(
                    table,
                    "Put",
                    request["PutRequest"].get("Item"),
                    f"requestItems.{name}.member.{position}.item",
                )
            else:
                key_of(
                    table,
                    "Delete",
                    request["DeleteRequest"].get("Key"),
                    f"requestItems.{name}.member.{position}.key",
                )


def _check_statement(statement, member: str) -> None:
    if statement is None:
        raise _null(member)
    if not isinstance(statement, str) or not statement.strip():
        raise _length(member, statement, "greater than or equal to 1")
    from moto.dynamodb.parsing import partiql

    try:  # moto's PartiQL parser raises bare Exception, IndexError or TypeError on a statement it cannot read
        partiql.get_query_metadata(statement)
    except Exception as error:  # noqa: BLE001
        reason = str(error) or "syntax error"
        raise _validation(f"Statement wasn't well formed, can't be processed: {reason}") from None


def check_execute_statement(handler) -> None:
    _check_statement(handler.body.get("Statement"), "statement")


def _check_statements(handler, field: str, member: str, most: int) -> None:
    statements = handler.body.get(field)
    if statements is None:
        raise _null(member)
    if not isinstance(statements, list) or not statements:
        raise _length(member, statements, "greater than or equal to 1")
    if len(statements) > most:
        raise _length(member, f"[{len(statements)} statements]", f"less than or equal to {most}")
    for position, statement in enumerate(statements, start=1):
        if not isinstance(statement, dict):
            raise _null(f"{member}.{position}.member.statement")
        _check_statement(statement.get("Statement"), f"{member}.{position}.member.statement")


def check_batch_execute_statement(handler) -> None:
    _check_statements(handler, "Statements", "statements", MAX_BATCH_STATEMENTS)


def check_execute_transaction(handler) -> None:
    _check_statements(handler, "TransactStatements", "transactStatements", 100)


CHECKS = {
    "transact_write_items": check_transact_write_items,
    "batch_write_item": check_batch_write_item,
    "execute_statement": check_execute_statement,
    "batch_execute_statement": check_batch_execute_statement,
    "execute_transaction": check_execute_transaction,
}
LOCKED_STATEMENTS = ("execute_statement", "batch_execute_statement", "execute_transaction")


def _answered_in_json(original, check):
    from moto.core.exceptions import ServiceException
    from py_partiql_parser.exceptions import ParserException
    from werkzeug.exceptions import HTTPException

    @functools.wraps(original)
    def handler(self):
        check(self)
        try:
            return original(self)
        except (HTTPException, ServiceException):
            raise  # moto's own DynamoDB errors: already JSON with AWS's status
        except ParserException as error:
            raise _validation(f"Statement wasn't well formed, can't be processed: {error.message}") from None
        except ValueError as error:  # moto's expression parsers raise it for unbalanced parentheses
            raise _validation(f"Invalid ConditionExpression: {error}") from None
        except Exception as error:  # noqa: BLE001 - the last resort: JSON, never moto's HTML page
            from moto.core.exceptions import JsonRESTError

            internal = JsonRESTError(ERROR_PREFIX + "InternalServerError", f"{type(error).__name__}: {error}")
            internal.code = 500
            raise internal from error

    setattr(handler, _CHECKED, True)
    return handler


def _locked(original, write_lock):
    @functools.wraps(original)
    def locked(*args, **kwargs):
        with write_lock:
            return original(*args, **kwargs)

    setattr(locked, _CHECKED, True)
    return locked


def _parsed_or_serialization_error(original):
    """moto parses every request against botocore's model before any handler runs, and raised AttributeError or
    TypeError on a body of the wrong JSON type (a string where a structure belongs): HTML 500 for any action. AWS
    answers such a body with a 400 ``SerializationException``."""

    @functools.wraps(original)
    def parse_parameters(self, request):
        try:
            return original(self, request)
        except (AttributeError, TypeError, ValueError) as error:
            from moto.core.exceptions import JsonRESTError

            raise JsonRESTError(ERROR_PREFIX + "SerializationException", f"Unexpected request body: {error}") from None

    setattr(parse_parameters, _CHECKED, True)
    return parse_parameters


def install(write_lock) -> int:
    """Wraps the handlers, and the backend's statement methods in ``write_lock`` (the one every write takes);
    returns how many it wrapped (0 once installed)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    wrapped = 0
    if not getattr(DynamoHandler.parse_parameters, _CHECKED, False):
        DynamoHandler.parse_parameters = _parsed_or_serialization_error(DynamoHandler.parse_parameters)
        wrapped += 1
    for name, check in CHECKS.items():
        original = getattr(DynamoHandler, name)
        if not getattr(original, _CHECKED, False):
            setattr(DynamoHandler, name, _answered_in_json(original, check))
            wrapped += 1
    for name in LOCKED_STATEMENTS:
        original = getattr(DynamoDBBackend, name)
        if not getattr(original, _CHECKED, False):
            setattr(DynamoDBBackend, name, _locked(original, write_lock))
            wrapped += 1
    return wrapped

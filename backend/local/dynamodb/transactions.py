"""TransactWriteItems done as DynamoDB does it: all the writes or none, decided before anything is written.

moto 5.2.5 makes a transaction undoable by ``copy.deepcopy`` of every table it touches, writes item by item, and on
a failure puts the copies back in place of the tables. In a local region that fails and is wrong:

- the copy includes the table's stream shard, whose record list the stream janitor swaps for an ``OffsetList``
  holding a lock: from the first trim on, every transaction answered HTTP 500 with an HTML page
  ("cannot pickle '_thread.lock' object");
- it copies the whole table (every item, every kept stream record) for each transaction;
- a cancelled transaction's first writes were already in the stream, where the replicator may have read them
  before the table was put back: a write that never happened could be replicated;
- putting a copy back replaces the Table object that the stream janitor and other threads hold.

Here, under the write lock (so no other write interleaves, ``patches.WRITE_LOCK``), the transaction is decided first:
the request's shape and keys (a ``ValidationException`` for the whole request, nothing written), then every
condition against the stored items (``ConditionalCheckFailed`` reasons), then every write is tried on a scratch
table holding copies of just the items involved (an item over 400 KB or an update that cannot apply is a
``ValidationError`` reason). Only a transaction that passes all three is written, through moto's own write methods,
so each item write emits its stream record as a single write does. AWS: the DynamoDB API Reference,
TransactWriteItems (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
"""

from __future__ import annotations

import copy
import inspect
import json
import threading

from backend.local.dynamodb import strong

OPERATIONS = ("ConditionCheck", "Put", "Delete", "Update")
MAX_ACTIONS = 100  # AWS: "up to 100 action requests" (API reference, TransactItems)
MAX_ITEM_BYTES = 400 * 1024  # AWS: the item size limit, counted as moto counts it (names + values)
_WRITE_LOCK = threading.RLock()  # patches.WRITE_LOCK once installed (handed in: this module must not import patches)


def _validation(message: str):
    from moto.dynamodb.exceptions import MockValidationException

    return MockValidationException(message)


def key_of(table, op_type: str, source, where: str) -> dict:
    """The item's key from a Put's item or another action's key, checked against the table's key schema as DynamoDB
    checks it (``where``: the request member named when it is missing)."""
    if not isinstance(source, dict):
        raise _validation(
            f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: Member must not be null"
        )
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    types = [table.hash_key_type] + ([table.range_key_type] if table.range_key_attr else [])
    key = {}
    for name, expected in zip(names, types, strict=True):
        value = source.get(name)
        if not isinstance(value, dict) or len(value) != 1:
            raise _validation(
                f"One or more parameter values were invalid: Missing the key {name} in the item"
                if op_type == "Put"
                else "The provided key element does not match the schema"
            )
        actual = next(iter(value))
        if actual != expected:
            raise _validation(
                f"One or more parameter values were invalid: Type mismatch for key {name} expected: {expected} "
                f"actual: {actual}"
                if op_type == "Put"
                else "The provided key element does not match the schema"
            )
        key[name] = value
    if op_type != "Put" and set(source) != set(names):
        raise _validation("The provided key element does not match the schema")
    return key


def _plan(backend, transact_items: list) -> list[tuple[str, dict, object, dict]]:
    """(operation, its parameters, moto table, key) for each action; raises for a request DynamoDB refuses whole."""
    from moto.dynamodb.exceptions import MultipleTransactionsException, TooManyTransactionsException

    if len(transact_items) > MAX_ACTIONS:
        raise TooManyTransactionsException()
    plan, seen = [], set()
    for position, action in enumerate(transact_items, start=1):
        if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in OPERATIONS:
            raise _validation("TransactItems can only contain one of Check, Put, Update or Delete")
        op_type, op = next(iter(action.items()))
        if not isinstance(op, dict) or not isinstance(op.get("TableName"), str):
            raise _validation(
                f"1 validation error detected: Value null at 'transactItems.{position}.member.tableName' "
                "failed to satisfy constraint: Member must not be null"
            )
        if op_type == "ConditionCheck" and not op.get("ConditionExpression"):
            raise _validation("Invalid ConditionExpression: The expression can not be empty;")
        table = backend.get_table(op["TableName"])  # ResourceNotFoundException, as on AWS
        member = "item" if op_type == "Put" else "key"
        where = f"transactItems.{position}.member.{op_type[0].lower()}{op_type[1:]}.{member}"
        key = key_of(table, op_type, op.get(member.capitalize()), where)
        identity = (table.name, json.dumps(key, sort_keys=True))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        plan.append((op_type, op, table, key))
    return plan


def _condition_reasons(backend, plan) -> list:
    """(code, message, item) per action, in moto's TransactionCanceledException form: (None, None, None) = passes."""
    reasons = []
    for _op_type, op, table, key in plan:
        current = backend.get_item(table.name, key)
        condition = op.get("ConditionExpression")
        failed = False
        if condition:
            expression = _filter_expression(condition, op)
            failed = not expression.expr(current)
        if failed:
            item = None
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current is not None:
                item = current.to_json()["Attributes"]
            reasons.append(("ConditionalCheckFailed", "The conditional request failed", item))
        else:
            reasons.append((None, None, None))
    return reasons


def _filter_expression(condition: str, op: dict):
    from moto.dynamodb.comparisons import get_filter_expression

    try:
        return get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        )
    except ValueError as error:  # moto's parser raises ValueError for unbalanced parentheses
        raise _validation(f"Invalid ConditionExpression: {error}") from None


def _apply(backend, op_type: str, op: dict, table_name: str, key: dict) -> None:
    """One action through moto's own write methods, conditions already decided (so not evaluated again)."""
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    if op_type == "Put":
        backend.put_item(table_name, op["Item"])
    elif op_type == "Delete":
        backend.delete_item(table_name, key)
    elif op_type == "Update":
        backend.update_item(
            table_name,
            key,
            update_expression=op.get("UpdateExpression"),
            attribute_updates=None,
            expression_attribute_names=names,
            expression_attribute_values=values,
        )


def _rehearsal_reasons(backend, plan) -> list:
    """Tries every write on a scratch table holding copies of the items involved; a write that fails there (or an
    item that would outgrow 400 KB) is a ``ValidationError`` reason, as DynamoDB cancels such a transaction."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    scratch = DynamoDBBackend(backend.region_name, backend.account_id)
    reasons = []
    for op_type, op, table, key in plan:
        if table.name not in scratch.tables:
            scratch.tables[table.name] = Table(
                table.name, backend.account_id, backend.region_name, schema=table.schema, attr=table.attr
            )
        current = backend.get_item(table.name, key)
        if current is not None:
            scratch.tables[table.name].put_item(copy.deepcopy(current.to_json()["Attributes"]))
        try:
            _apply(scratch, op_type, op, table.name, key)
            written = scratch.get_item(table.name, key)
            if written is not None and written.size() > MAX_ITEM_BYTES:
                raise _validation("Item size has exceeded the maximum allowed size")
            reasons.append((None, None, None))
        except Exception as error:  # noqa: BLE001 - any failure of the rehearsal cancels, with its message
            reasons.append(("ValidationError", getattr(error, "message", None) or str(error), None))
    return reasons


def transact_write_items(self, transact_items: list) -> None:
    """``DynamoDBBackend.transact_write_items``: decides, then writes all or nothing (module docstring)."""
    from moto.dynamodb.exceptions import TransactionCanceledException

    with _WRITE_LOCK:
        plan = _plan(self, transact_items)
        refusal = strong.refusal_of_transaction({table for _op_type, _op, table, _key in plan})
        if refusal:
            raise _validation(refusal)
        reasons = _condition_reasons(self, plan)
        if all(code is None for code, _, _ in reasons):
            reasons = _rehearsal_reasons(self, plan)
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        for op_type, op, table, key in plan:
            _apply(self, op_type, op, table.name, key)


def install(write_lock, mark: str) -> int:
    """Puts ``transact_write_items`` in place of moto's, under ``write_lock`` (the one every write takes), marked
    with ``mark`` so that patches.install() does not wrap it again; 1 if installed now, else 0."""
    global _WRITE_LOCK
    from moto.dynamodb.models import DynamoDBBackend

    _WRITE_LOCK = write_lock
    setattr(transact_write_items, mark, True)

    if DynamoDBBackend.transact_write_items is transact_write_items:
        return 0
    # moto's own method stays reachable, as for the other wrapped writes (the adapter's checks read its source)
    transact_write_items.__wrapped__ = inspect.unwrap(DynamoDBBackend.transact_write_items)
    DynamoDBBackend.transact_write_items = transact_write_items
    return 1

"""The legacy global-tables calls (version 2017.11.29), answered in JSON as AWS answers them for the local cloud's
tables, which are version 2019.11.21 global tables.

moto 5.2.5 implements none of them: each answered HTTP 500 with an HTML page, on which the AWS CLI retries for ~27 s
before failing. AWS (Developer Guide, "Determining the version of a global table"): ``DescribeGlobalTable`` of a
2019.11.21 replica, or of any table that is not a 2017.11.29 global table, fails with
``GlobalTableNotFoundException``; ``ListGlobalTables`` lists 2017.11.29 global tables only, so here it lists none.
``CreateGlobalTable`` would make a 2017.11.29 global table, which the local cloud does not emulate: it is refused
with a ``ValidationException`` that names the call to use instead (a difference from AWS, in docs/FIDELITY.md).

``install()`` adds these actions to moto's DynamoDB handler (``patches.PATCHES["legacy_global_tables"]``).
"""

from __future__ import annotations

import json

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
USE_INSTEAD = (
    "The local cloud emulates global tables version 2019.11.21 only: add or remove replicas with UpdateTable "
    "(ReplicaUpdates) and read them with DescribeTable."
)


def _error(code: str, message: str):
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(ERROR_PREFIX + code, message)


def global_table_not_found(handler) -> str:
    """DescribeGlobalTable, UpdateGlobalTable and their Settings calls: no 2017.11.29 global table has that name."""
    raise _error(
        "GlobalTableNotFoundException", f"Global table not found: {handler.body.get('GlobalTableName', '')}"
    )


def list_global_tables(handler) -> str:
    return json.dumps({"GlobalTables": []})


def create_global_table(handler) -> str:
    raise _error("ValidationException", USE_INSTEAD)


ACTIONS = {
    "describe_global_table": global_table_not_found,
    "describe_global_table_settings": global_table_not_found,
    "update_global_table": global_table_not_found,
    "update_global_table_settings": global_table_not_found,
    "list_global_tables": list_global_tables,
    "create_global_table": create_global_table,
}


def install() -> int:
    """Adds the actions moto lacks to its DynamoDB handler; returns how many it added (0 once installed)."""
    from moto.dynamodb.responses import DynamoHandler

    added = 0
    for name, function in ACTIONS.items():
        if getattr(DynamoHandler, name, None) is not function:
            setattr(DynamoHandler, name, function)
            added += 1
    return added

"""What every patch of moto works around and which moto internals it relies on: the list ``PATCHES``.

Data only, so that ``tests/functional/test_moto_adapter.py`` can check every internal against the installed moto
(the patches themselves are in ``patches.py`` and the modules it names). On a moto upgrade: read each patch's
``works_around`` against the new moto (it may have fixed the bug), adapt the patch, update its ``relies_on``, then
bump its ``moto_version``.
"""

from __future__ import annotations

from dataclasses import dataclass

MOTO_VERSION = "5.2.5"
DEFAULT_ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class Reliance:
    """One moto internal a patch relies on: ``module:Qualified.name``, its shape, and source text it must contain.

    An attribute that is not on the class (set in ``__init__``) is checked as ``self.<name>`` in the class source."""

    target: str
    shape: str
    source_contains: tuple[str, ...] = ()
    parameters: tuple[str, ...] | None = None  # the exact parameter names, when the patch passes them through


@dataclass(frozen=True)
class Patch:
    name: str
    moto_version: str
    works_around: str
    relies_on: tuple[Reliance, ...]


_TABLE = "moto.dynamodb.models.table"
_STREAMS = "moto.dynamodbstreams.models"
_DB = "moto.dynamodb.models"
_JSON_ACTIONS = (
    "transact_write_items", "batch_write_item", "execute_statement", "batch_execute_statement", "execute_transaction"
)
_ADD_NUMBERS = "len(self.items) + self.starting_sequence_number"
WRITE_OPERATIONS = ("put_item", "update_item", "delete_item", "transact_write_items")

PATCHES = {
    patch.name: patch
    for patch in (
        Patch(
            "serialized_writes",
            MOTO_VERSION,
            "moto does a write as several Python steps with no lock (read the item, check the condition, store the "
            "new item, then StreamShard.add numbers the record len(items) + start *before* appending it). A region "
            "serves its gateway threads and its moto server threads at once, so two writes interleave: two stream "
            "records get the same sequence number (the replicator, deduping by sequence number, dropped the second: "
            "the chaos run found acknowledged writes never replicated), and a conditional write (the replicator's "
            "#ts < :ts) checks against an item a concurrent write replaces before it stores its own older one. "
            "DynamoDB makes each item write atomic, conditions included, and numbers records in order.",
            tuple(
                Reliance(f"moto.dynamodb.models:DynamoDBBackend.{name}", "a method doing one whole write")
                for name in WRITE_OPERATIONS
            )
            + (
                Reliance(
                    f"{_TABLE}:StreamShard.add",
                    "numbers the record from len(items) then appends it, in two steps",
                    (_ADD_NUMBERS, "self.items.append("),
                    ("self", "old", "new"),
                ),
            ),
        ),
        Patch(
            "untracked_instances",
            MOTO_VERSION,
            "BaseModel.__new__ appends every model instance (every DynamoDB item version, stream record and shard "
            "iterator) to a per-class instances_tracked list that only moto's dashboard and reset read. Nothing else "
            "frees them: a region grew ~5 MB per 1,000 writes even with its stream trimmed.",
            (
                Reliance("moto.core.model_instances:model_data", "dict: service -> class name -> class"),
                Reliance(
                    "moto.core.common_models:BaseModel.__new__",
                    "appends each new instance to cls.instances_tracked",
                    ("cls.instances_tracked.append(instance)",),
                ),
            ),
        ),
        Patch(
            "stream_offset_list",
            MOTO_VERSION,
            "moto computes a record's sequence number from its position in StreamShard.items, so records can't "
            "simply be removed: the list is an OffsetList that keeps the positions (len counts trimmed records) "
            "and drops the objects; reading a trimmed position raises (stream_read_errors answers it).",
            (
                Reliance(f"{_TABLE}:StreamShard.items", "the shard's records, a list indexed by position"),
                Reliance(f"{_TABLE}:StreamShard.starting_sequence_number", "the number of position 0"),
                Reliance(f"{_TABLE}:StreamShard.add", "numbers from len(items)", (_ADD_NUMBERS,)),
                Reliance(f"{_TABLE}:StreamShard.get", "reads records by slice", ("self.items[start:end]",)),
                Reliance(f"{_STREAMS}:ShardIterator.__init__", "LATEST: len(items)", ("stream_shard.items",)),
                Reliance("moto.dynamodb.models:dynamodb_backends", "[account][region].tables: name -> Table"),
                Reliance(f"{_TABLE}:Table.stream_shard", "the table's StreamShard, or None"),
                Reliance(f"{_TABLE}:Table.latest_stream_label", "the stream ARN's last part"),
                Reliance(f"{_TABLE}:Table.table_arn", "the table's ARN"),
            ),
        ),
        Patch(
            "stream_retention",
            MOTO_VERSION,
            "moto keeps every stream record forever; AWS keeps each 24 hours for every consumer and trims the "
            "oldest first. stream_retention.py makes each new shard's list an OffsetList that stamps records with "
            "the region's clock and trims them after 24 h or over a cap per shard (never a record the replicator "
            "has not durably done).",
            (
                Reliance(
                    f"{_TABLE}:StreamShard.__init__",
                    "(account_id, table): sets self.items to a new list",
                    ("self.items",),
                    ("self", "account_id", "table"),
                ),
                Reliance(f"{_TABLE}:StreamShard.add", "appends with self.items.append", ("self.items.append(",)),
                Reliance(f"{_TABLE}:StreamRecord.__init__", "sets record.dynamodb.SizeBytes", ('["SizeBytes"]',)),
                Reliance(f"{_TABLE}:Table.name", "the table's name"),
            ),
        ),
        Patch(
            "stream_read_errors",
            MOTO_VERSION,
            "moto starts TRIM_HORIZON at the shard's first sequence number and answers an iterator it no longer "
            "holds (freed by the janitor) with a KeyError, an HTML 500. AWS: TRIM_HORIZON is the oldest record "
            "kept, a read behind it is a 400 TrimmedDataAccessException, an expired iterator a 400 "
            "ExpiredIteratorException. stream_reads.py wraps the streams backend's two reads.",
            (
                Reliance(
                    f"{_STREAMS}:DynamoDBStreamsBackend.get_shard_iterator",
                    "returns the stored ShardIterator (asserts the shard id)",
                    ("self.shard_iterators[shard_iterator.arn] = shard_iterator",),
                    ("self", "arn", "shard_id", "shard_iterator_type", "sequence_number"),
                ),
                Reliance(
                    f"{_STREAMS}:DynamoDBStreamsBackend.get_records",
                    "looks the iterator up, a KeyError if it is gone",
                    ("self.shard_iterators[iterator_arn]",),
                    ("self", "iterator_arn", "limit"),
                ),
                Reliance(f"{_STREAMS}:DynamoDBStreamsBackend._get_table_from_arn", "the stream ARN's table"),
                Reliance(
                    f"{_STREAMS}:ShardIterator.__init__",
                    "TRIM_HORIZON: the shard's first number; AT/AFTER: the given one",
                    ("stream_shard.starting_sequence_number", "sequence_number + 1"),
                ),
                Reliance(f"{_STREAMS}:ShardIterator.sequence_number", "the next record's sequence number"),
                Reliance(f"{_TABLE}:StreamShard.id", "the one shard's id"),
                Reliance("moto.dynamodbstreams.responses:DynamoDBStreamsHandler.get_records", "calls the backend"),
            ),
        ),
        Patch(
            "shard_iterator_freeing",
            MOTO_VERSION,
            "every get_records call stores a new shard iterator that is never freed: 20,000 empty polls added 39.5 MB "
            "of RSS. The janitor removes stored iterators older than a maximum age.",
            (
                Reliance(f"{_STREAMS}:dynamodbstreams_backends", "[account][region]: a streams backend"),
                Reliance(f"{_STREAMS}:DynamoDBStreamsBackend.shard_iterators", "dict: ARN -> ShardIterator"),
                Reliance(f"{_STREAMS}:ShardIterator.get", "stores the next iterator", ("shard_iterators[",)),
            ),
        ),
        Patch(
            "legacy_global_tables",
            MOTO_VERSION,
            "moto implements none of the legacy global-tables calls (DescribeGlobalTable, ListGlobalTables, "
            "CreateGlobalTable, UpdateGlobalTable and their Settings calls): each answered HTTP 500 with an HTML page "
            "and the AWS CLI retried for ~27 s. legacy_global_tables.py adds them to moto's DynamoDB handler, "
            "answering in JSON as AWS does for a 2019.11.21 global table.",
            (
                Reliance(
                    "moto.core.responses:BaseResponse.call_action",
                    "calls the handler method named after the action, if the class has it",
                    ("method_names_from_class(self.__class__)", "except HTTPException as http_error"),
                ),
                Reliance("moto.dynamodb.responses:DynamoHandler.body", "the request's JSON body, a dict"),
                Reliance(
                    "moto.core.exceptions:JsonRESTError.__init__",
                    "(error_type, message): a JSON error answered with status 400",
                    parameters=("self", "error_type", "message", "_", "kwargs"),
                ),
            ),
        ),
        Patch(
            "stream_record_region",
            MOTO_VERSION,
            "moto writes awsRegion 'us-east-1' into every stream record, whatever the table's region; on AWS it is "
            "the region of the table the change happened in, which a consumer of several regions' streams needs.",
            (
                Reliance(
                    f"{_TABLE}:StreamRecord.__init__",
                    "builds self.record with a hard-coded awsRegion",
                    ('"awsRegion": "us-east-1"', "self.record"),
                    ("self", "table", "stream_type", "event_name", "old", "new", "seq"),
                ),
                Reliance(f"{_TABLE}:Table.region_name", "the table's region"),
            ),
        ),
        Patch(
            "hidden_versions",
            MOTO_VERSION,
            "moto keeps no replication metadata; global tables order writes by a hidden per-item timestamp. "
            "replica_door.py stamps every item change at StreamShard.add (the one place every write path of a "
            "table with a stream reaches) and tags its record; StreamRecord.to_json reveals the tag to the door only.",
            (
                Reliance(
                    f"{_TABLE}:StreamShard.add",
                    "appends one StreamRecord per item change, under the write lock",
                    ("self.items.append(StreamRecord(",),
                    ("self", "old", "new"),
                ),
                Reliance(f"{_TABLE}:StreamRecord.to_json", "returns self.record", ("return self.record",)),
                Reliance(f"{_TABLE}:StreamShard.table", "the shard's table"),
                Reliance(f"{_TABLE}:Table.hash_key_type", "the hash key's attribute type"),
                Reliance(
                    "moto.dynamodb.models:DynamoDBBackend.scan",
                    "one page: (items, scanned count, last evaluated key)",
                    parameters=(
                        "self", "table_name", "filters", "limit", "exclusive_start_key", "filter_expression",
                        "expr_names", "expr_values", "index_name", "consistent_read", "projection_expression",
                        "segments",
                    ),
                ),
            ),
        ),
        Patch(
            "dynamodb_only",
            MOTO_VERSION,
            "moto imports its IAM backend on every request and its Lambda backend on every stream record, ~15 MB "
            "a region process for calls that do nothing there; the region process stands them in "
            "(dynamodb_only.py). These are every place a DynamoDB request or stream record reaches them.",
            (
                Reliance(
                    "moto.core.responses:BaseResponse.setup_class",
                    "marks the access key as used",
                    ("from moto.iam.models import mark_account_as_visited",),
                ),
                Reliance(
                    "moto.core.responses:BaseResponse.get_current_account",
                    "finds the account of the access key",
                    ("from moto.iam.models import get_account_id_from", "get_account_id_from(self.get_access_key())"),
                ),
                Reliance(
                    "moto.core.authorization:ActionAuthenticatorMixin._authenticate_and_authorize_normal_action",
                    "imports IAM's authorizer, used only with IAM authorization on",
                    ("from moto.iam.access_control import IAMRequest",),
                ),
                Reliance(
                    f"{_TABLE}:StreamShard.add",
                    "asks Lambda only for the table's event source mappings",
                    ("from moto.awslambda.utils import get_backend", "lambda_event_source_mappings.items()"),
                ),
            ),
        ),
        Patch(
            "in_process_door",
            MOTO_VERSION,
            "A call through the ThreadedMotoServer costs ~3x the CPU of moto's handler alone; the replicator's "
            "calls are handed to the handler in-process (in_process.py), as moto's own botocore stubber does.",
            (
                Reliance("moto.core.request:Request.from_primitives", "builds moto's request from its parts"),
                Reliance("moto.core.responses:BaseResponse.dispatch", "(request, url, headers) -> (status, headers, body)"),
                Reliance("moto.dynamodb.responses:DynamoHandler", "the DynamoDB JSON API handler"),
                Reliance("moto.dynamodbstreams.responses:DynamoDBStreamsHandler", "the Streams JSON API handler"),
            ),
        ),
        Patch(
            "transactions_all_or_nothing",
            MOTO_VERSION,
            "moto undoes a failed transaction with copy.deepcopy of each table it touches: the copy of a trimmed "
            "stream (OffsetList, which holds a lock) raised, so every TransactWriteItems answered an HTML 500; and a "
            "cancelled transaction's first writes reached the stream. transactions.py decides the whole transaction "
            "under the write lock before writing anything.",
            (
                Reliance(f"{_DB}:DynamoDBBackend.transact_write_items", "undoes by table copies", ("copy.deepcopy(",)),
                Reliance(f"{_DB}:DynamoDBBackend.get_item", "(table_name, keys) -> Item or None"),
                Reliance(f"{_DB}:DynamoDBBackend.update_item", "keyword parameters", ("update_expression",)),
                Reliance(
                    "moto.dynamodb.comparisons:get_filter_expression", "(expression, names, values) -> .expr"
                ),
                Reliance(f"{_TABLE}:Table.__init__", "(name, account, region, schema, attr, ...)"),
                Reliance("moto.dynamodb.models.dynamo_type:Item.size", "the item's size in bytes"),
                Reliance(
                    "moto.dynamodb.exceptions:TransactionCanceledException.__init__",
                    "a list of (code, message, item) reasons",
                    ("for code, message, item in errors",),
                ),
            ),
        ),
        Patch(
            "write_requests_json",
            MOTO_VERSION,
            "moto's TransactWriteItems, BatchWriteItem and PartiQL handlers index the request unchecked: missing "
            "members, unknown write requests and unparsable statements answered an HTML 500 (AWS: a 400 "
            "ValidationException); a batch was written up to its first bad key; PartiQL writes bypassed the write "
            "lock. write_requests.py checks the requests first and answers JSON always.",
            tuple(
                Reliance(
                    f"moto.dynamodb.responses:DynamoHandler.{name}", "the action's handler, reads self.body"
                )
                for name in _JSON_ACTIONS
            )
            + tuple(
                Reliance(f"{_DB}:DynamoDBBackend.{name}", "runs PartiQL, writing through Table methods", ("partiql",))
                for name in ("execute_statement", "batch_execute_statement")
            )
            + (
                Reliance("py_partiql_parser.exceptions:ParserException", "a statement that does not parse"),
                Reliance("moto.dynamodb.parsing.partiql:get_query_metadata", "parses a statement, raises if it can't"),
                Reliance(
                    "moto.core.responses:BaseResponse.parse_parameters",
                    "parses the body against botocore's model into self.params",
                    ("self.params =",),
                    ("self", "request"),
                ),
            ),
        ),
        Patch(
            "global_table_replicas",
            MOTO_VERSION,
            "moto accepts UpdateTable ReplicaUpdates and ignores them, and DescribeTable shows no Replicas or "
            "GlobalTableVersion. replicas.py checks ReplicaUpdates, records the replica intents the replicator "
            "carries out (turning the stream on if needed) and adds the replica group to every table description.",
            (
                Reliance(
                    f"{_TABLE}:Table.describe",
                    "returns {base_key: the table description}",
                    ("base_key: {",),
                    ("self", "base_key"),
                ),
                Reliance(
                    "moto.dynamodb.responses:DynamoHandler.update_table",
                    "reads self.body, ignores ReplicaUpdates, answers the table's description",
                    ("self.dynamodb_backend.update_table(", "table.describe()"),
                ),
                Reliance(f"{_TABLE}:Table.all_items", "every item of the table"),
                Reliance(f"{_TABLE}:Table.set_stream_specification", "turns the stream on with a new shard"),
                Reliance(f"{_TABLE}:Table.stream_specification", "the table's StreamSpecification dict"),
            ),
        ),
        Patch(
            "strong_consistency",
            MOTO_VERSION,
            "moto has no multi-Region strong consistency. strong_hooks.py wraps the backend's item writes (every "
            "PutItem, UpdateItem, DeleteItem and BatchWriteItem write reaches them) so that a write to an MRSC table "
            "is tried, put back, agreed with another region and then written (strong_protocol.py); GetItem with "
            "ConsistentRead asks another region first; UpdateTimeToLive is refused on MRSC tables. The trial is "
            "undone in the table's item store itself.",
            (
                Reliance(
                    f"{_DB}:DynamoDBBackend.put_item",
                    "(table_name, item_attrs, ...) -> the stored Item",
                    parameters=(
                        "self", "table_name", "item_attrs", "expected", "condition_expression",
                        "expression_attribute_names", "expression_attribute_values", "overwrite",
                        "return_values_on_condition_check_failure",
                    ),
                ),
                Reliance(
                    f"{_DB}:DynamoDBBackend.update_item",
                    "(table_name, key, ...) mutates the stored item after a deep copy of it",
                    ("orig_item = copy.deepcopy(item)", "table.stream_shard.add(orig_item, item)"),
                ),
                Reliance(f"{_DB}:DynamoDBBackend.delete_item", "(table_name, key, ...) -> the deleted Item"),
                Reliance(
                    f"{_TABLE}:Table.put_item",
                    "stores the new item in self.items[hash] (or [hash][range]) before the stream record",
                    ("self.items[hash_value][range_value] = item", "self.items[hash_value] = item"),
                ),
                Reliance(f"{_TABLE}:Table.delete_item", "pops the item from self.items", ("self.items.pop(hash_key)",)),
                Reliance("moto.dynamodb.models.dynamo_type:Item.to_json", "{'Attributes': the item's JSON}"),
                Reliance("moto.dynamodb.responses:DynamoHandler.get_item", "reads ConsistentRead from self.body"),
                Reliance("moto.dynamodb.responses:DynamoHandler.update_time_to_live", "reads self.body"),
                Reliance("moto.core.exceptions:JsonRESTError", "a JSON error whose .code is its HTTP status"),
            ),
        ),
        Patch(
            "server_socket_close",
            MOTO_VERSION,
            "ThreadedMotoServer has no public way to close its listening socket without joining its thread (stop() "
            "waits for serve_forever): a region about to exit closes the socket of its private werkzeug server.",
            (
                Reliance(
                    "moto.moto_server.threaded_moto_server:ThreadedMotoServer._server",
                    "the werkzeug BaseWSGIServer (with .socket) once started",
                    ("self._server = make_server(",),
                ),
            ),
        ),
    )
}

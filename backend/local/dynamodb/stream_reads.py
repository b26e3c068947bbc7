"""DynamoDB Streams reads at the trim horizon and with a lost iterator, answered as AWS answers them.

AWS (DynamoDB Streams API reference, GetShardIterator and GetRecords): ``TRIM_HORIZON`` starts at the oldest record
the shard still holds; ``AT_SEQUENCE_NUMBER`` / ``AFTER_SEQUENCE_NUMBER`` of a record older than the trim point, or
``GetRecords`` with an iterator whose next record was trimmed meanwhile, fail with a 400
``TrimmedDataAccessException``; an iterator past its lifetime fails with a 400 ``ExpiredIteratorException``.

moto 5.2.5 started every TRIM_HORIZON at the shard's first sequence number, and answered a stored iterator it no
longer holds (the janitor frees them, ``streams.free_iterators``) with a KeyError: an HTML 500. ``install()`` wraps
the streams backend's ``get_shard_iterator`` and ``get_records``, which both doors reach (the moto server that
clients use, and the replicator's in-process door), so both answer the same JSON errors.
"""

from __future__ import annotations

import functools

from backend.local.dynamodb.stream_retention import OffsetList, TrimmedPosition

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
# AWS's own words, as a consumer sees them (AWS documents no message for the local cloud's other cases).
TRIMMED = "The data you are trying to access has been trimmed."
EXPIRED = "Iterator expired: the shard iterator was freed or is older than its lifetime. Get a new one."
_MARK = "_mrkv_stream_reads"
_AT_A_NUMBER = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
_TYPES = ("TRIM_HORIZON", "LATEST") + _AT_A_NUMBER


def error(code: str, message: str):
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(ERROR_PREFIX + code, message)


def _horizon(shard) -> int | None:
    """The sequence number of the oldest record kept, or None if the shard's list is moto's own."""
    items = shard.items
    return shard.starting_sequence_number + items.horizon() if isinstance(items, OffsetList) else None


def _checked_get_shard_iterator(original):
    @functools.wraps(original)
    def get_shard_iterator(self, arn, shard_id, shard_iterator_type, sequence_number=None):
        if shard_iterator_type not in _TYPES:
            raise error("ValidationException", f"Invalid ShardIteratorType: {shard_iterator_type!r}")
        if shard_iterator_type in _AT_A_NUMBER and sequence_number is None:
            raise error("ValidationException", f"{shard_iterator_type} needs a SequenceNumber")
        shard = self._get_table_from_arn(arn).stream_shard
        if shard is None or shard.id != shard_id:  # moto: an AssertionError, an HTML 500
            raise error("ResourceNotFoundException", f"Requested resource not found: Shard does not exist: {shard_id}")
        iterator = original(self, arn, shard_id, shard_iterator_type, sequence_number)
        horizon = _horizon(shard)
        if horizon is None:
            return iterator
        if shard_iterator_type == "TRIM_HORIZON":
            iterator.sequence_number = max(iterator.sequence_number, horizon)
        elif iterator.sequence_number < horizon:
            self.shard_iterators.pop(iterator.arn, None)
            raise error("TrimmedDataAccessException", TRIMMED)
        return iterator

    setattr(get_shard_iterator, _MARK, True)
    return get_shard_iterator


def _checked_get_records(original):
    @functools.wraps(original)
    def get_records(self, iterator_arn, limit):
        if iterator_arn not in self.shard_iterators:  # moto: a KeyError, an HTML 500
            raise error("ExpiredIteratorException", EXPIRED)
        try:
            return original(self, iterator_arn, limit)
        except TrimmedPosition:  # the iterator's next record was trimmed after the iterator was handed out
            raise error("TrimmedDataAccessException", TRIMMED) from None

    setattr(get_records, _MARK, True)
    return get_records


def install() -> int:
    """Wraps the two reads (idempotent); returns how many were wrapped now."""
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    wrapped = 0
    for name, wrap in (("get_shard_iterator", _checked_get_shard_iterator), ("get_records", _checked_get_records)):
        original = getattr(DynamoDBStreamsBackend, name)
        if not getattr(original, _MARK, False):
            setattr(DynamoDBStreamsBackend, name, wrap(original))
            wrapped += 1
    return wrapped

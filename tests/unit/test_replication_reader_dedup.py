"""The replicator's bookkeeping of what it read, without any server: duplicates, re-reads, per-pair floors."""

from backend.local.replication.replicator import Replicator

REGIONS = {"eu-central-1": "http://127.0.0.1:1", "us-west-2": "http://127.0.0.1:2"}


def record(seq, event_id, key="k", region="us-west-2", ts=1000):
    image = {"key": {"S": key}, "value": {"S": "v"}, "region": {"S": region}, "writtenAt": {"N": str(ts)}}
    return {
        "eventID": event_id,
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"key": {"S": key}},
            "NewImage": image,
            "SequenceNumber": str(seq),
            "ApproximateCreationDateTime": 1.0,
        },
        "mrkv": {"version": f"{ts}:{region}", "replica": False},  # as the region's door shows records
    }


def make(tmp_path):
    return Replicator(
        {"table": "keyvalues", "regions": REGIONS, "state_dir": str(tmp_path), "delay": 0, "network": "none"}
    )


def take(replicator, *records):
    """What the reader of us-west-2 does with a batch it read (no server: ``take`` needs none)."""
    replicator.readers["us-west-2"].take(list(records))


def queued(replicator):
    return [e.change.key for e in replicator.pairs.queues[("us-west-2", "eu-central-1")]]


def test_two_events_sharing_a_sequence_number_are_both_replicated(tmp_path):
    replicator = make(tmp_path)
    take(replicator, record(10, "a", key="k1"))
    take(replicator, record(10, "b", key="k2"))  # moto's duplicate sequence number
    assert queued(replicator) == ["k1", "k2"]


def test_a_re_read_record_is_not_queued_twice(tmp_path):
    replicator = make(tmp_path)
    for seq, event in [(10, "a"), (11, "b"), (11, "b"), (10, "a"), (12, "c")]:
        take(replicator, record(seq, event, key=event))
    assert queued(replicator) == ["a", "b", "c"]


def test_after_a_restart_a_pair_skips_what_it_had_done(tmp_path):
    replicator = make(tmp_path)
    replicator.pairs.floor[("us-west-2", "eu-central-1")] = 11
    replicator.pairs.floor[("us-west-2", "us-west-2")] = 11
    for seq in (10, 11, 12):
        take(replicator, record(seq, str(seq), key=f"k{seq}"))
    assert queued(replicator) == ["k12"]
    with replicator.pairs.cond:
        assert replicator.pairs.done_upto_locked("us-west-2", "eu-central-1") == 11  # k12 still waits

"""A region process leaves moto's IAM and Lambda out (backend/local/dynamodb/dynamodb_only.py) and DynamoDB still works.

Each case runs in a fresh interpreter: the stand-ins must be in place before moto is first imported, which the
test process (where other tests import moto's IAM) cannot promise.
"""

import json
import subprocess
import sys
import textwrap

EVERY_WRITE_PATH_AND_ITS_STREAM = textwrap.dedent(
    """
    import json, sys
    import boto3
    from backend.local.dynamodb import LocalDynamoDB, dynamodb_only

    installed = dynamodb_only.install()
    dynamodb = LocalDynamoDB("eu-west-1", "shapes").start()
    keys = dict(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x", region_name="eu-west-1")
    client = boto3.client("dynamodb", endpoint_url=dynamodb.url, **keys)  # over HTTP, as the CLI and replicator do
    local = dynamodb.client()  # in-process, as the region's handlers do
    client.put_item(TableName="shapes", Item={"key": {"S": "a"}, "value": {"S": "1"}})
    client.update_item(TableName="shapes", Key={"key": {"S": "a"}}, UpdateExpression="SET #v = :v",
                       ExpressionAttributeNames={"#v": "value"}, ExpressionAttributeValues={":v": {"S": "2"}})
    client.batch_write_item(RequestItems={"shapes": [{"PutRequest": {"Item": {"key": {"S": "b"}}}}]})
    client.transact_write_items(TransactItems=[{"Put": {"TableName": "shapes", "Item": {"key": {"S": "c"}}}}])
    local.delete_item(TableName="shapes", Key={"key": {"S": "b"}})
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb.url, **keys)
    arn = streams.list_streams(TableName="shapes")["Streams"][0]["StreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    events = [r["eventName"] for r in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]]
    try:
        sys.modules["moto.iam"].iam_backends
        refusal = None
    except AttributeError as error:
        refusal = str(error)
    print(json.dumps({
        "installed": installed,
        "item": local.get_item(TableName="shapes", Key={"key": {"S": "a"}})["Item"],
        "keys": sorted(i["key"]["S"] for i in client.scan(TableName="shapes")["Items"]),
        "events": events,
        "loaded": sorted(m for m in ("moto.iam.aws_managed_policies", "moto.ecr", "cryptography") if m in sys.modules),
        "refusal": refusal,
    }))
    dynamodb.stop()
    """
)


def _run(script: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_write_path_and_the_stream_work_without_moto_iam_or_lambda():
    result = _run(EVERY_WRITE_PATH_AND_ITS_STREAM)
    assert result["installed"] is True
    assert result["item"] == {"key": {"S": "a"}, "value": {"S": "2"}}
    assert result["keys"] == ["a", "c"]
    assert result["events"] == ["INSERT", "MODIFY", "INSERT", "INSERT", "REMOVE"]
    assert result["loaded"] == []  # IAM's managed policies, ECR (via Lambda) and cryptography stayed out
    assert "serves DynamoDB only" in result["refusal"] and "iam_backends" in result["refusal"]


def test_install_leaves_a_process_that_already_loaded_moto_iam_alone():
    result = _run(
        "import json, sys, moto.iam.models\n"
        "from backend.local.dynamodb import dynamodb_only\n"
        "print(json.dumps({'installed': dynamodb_only.install(),"
        " 'real': hasattr(sys.modules['moto.iam.models'], 'iam_backends')}))"
    )
    assert result == {"installed": False, "real": True}

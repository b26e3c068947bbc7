"""The engine's two AWS reads, with boto3: CloudFormation stack outputs and CloudWatch's ``ReplicationLatency``.

* ``stack_outputs(stack_name, region, session=None) -> dict`` -- ``OutputKey -> OutputValue`` of the stack in that
  region (the walkthrough's ``aws cloudformation describe-stacks --query 'Stacks[0].Outputs...'``). Raises
  ``TargetError`` with a clear message for a missing stack, missing credentials or an unreachable endpoint.
* ``replication_latency(table_name, source, destination, start, end, period_s=60, session=None) -> DataFrame``
  -- the ``AWS/DynamoDB`` ``ReplicationLatency`` metric (milliseconds) of the global table, as CloudWatch keeps it:
  published in the *source* region with dimensions ``TableName`` and ``ReceivingRegion`` (the destination).
  Columns: ``timestamp`` (UTC), ``source``, ``destination``, ``average_ms``, ``maximum_ms``, ``minimum_ms``,
  ``samples``; one row per period, sorted. Empty when CloudWatch has no data point yet (it lags a minute or two).
* ``replication_latency_pairs(table_name, source, destinations, start, end, ...)`` -- the same for several
  destinations, concatenated.

``session`` is an optional ``boto3.Session`` (a profile, say); by default boto3's usual credential chain is used.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from dashboard.measure.errors import TargetError

METRIC_COLUMNS = ["timestamp", "source", "destination", "average_ms", "maximum_ms", "minimum_ms", "samples"]


def _client(service: str, region: str, session=None):
    import boto3

    # A session of our own unless given one: boto3's default session is not thread-safe (the dashboard calls from
    # its script threads) and caches credentials process-wide.
    return (session or boto3.session.Session()).client(service, region_name=region)


def _explain(error: Exception, what: str) -> TargetError:
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

    if isinstance(error, NoCredentialsError):
        return TargetError(
            f"{what}: no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        )
    if isinstance(error, EndpointConnectionError):
        return TargetError(f"{what}: cannot reach the AWS endpoint ({error})")
    if isinstance(error, NoRegionError):
        return TargetError(f"{what}: no region given")
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        return TargetError(f"{what}: {detail.get('Code', 'error')}: {detail.get('Message', str(error))}")
    return TargetError(f"{what}: {type(error).__name__}: {error}")


def stack_outputs(stack_name: str, region: str, session=None) -> dict[str, str]:
    from botocore.exceptions import BotoCoreError, ClientError

    what = f"CloudFormation stack {stack_name} in {region}"
    try:
        stacks = _client("cloudformation", region, session).describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if "does not exist" in message:
            raise TargetError(
                f"{what} does not exist (deployed with 'osls deploy --region {region}'?)"
            ) from None
        raise _explain(error, what) from None
    except (BotoCoreError, ValueError) as error:
        raise _explain(error, what) from None
    if not stacks:
        raise TargetError(f"{what} does not exist")
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", []) if "OutputKey" in o}


def replication_latency(
    table_name: str,
    source: str,
    destination: str,
    start: datetime,
    end: datetime,
    period_s: int = 60,
    session=None,
) -> pd.DataFrame:
    from botocore.exceptions import BotoCoreError, ClientError

    what = f"CloudWatch ReplicationLatency {source} -> {destination} of table {table_name}"
    try:
        answer = _client("cloudwatch", source, session).get_metric_statistics(
            Namespace="AWS/DynamoDB",
            MetricName="ReplicationLatency",
            Dimensions=[
                {"Name": "TableName", "Value": table_name},
                {"Name": "ReceivingRegion", "Value": destination},
            ],
            StartTime=start,
            EndTime=end,
            Period=max(60, int(period_s)),
            Statistics=["Average", "Maximum", "Minimum", "SampleCount"],
            Unit="Milliseconds",
        )
    except (ClientError, BotoCoreError) as error:
        raise _explain(error, what) from None
    rows = [
        {
            "timestamp": point["Timestamp"],
            "source": source,
            "destination": destination,
            "average_ms": point.get("Average"),
            "maximum_ms": point.get("Maximum"),
            "minimum_ms": point.get("Minimum"),
            "samples": point.get("SampleCount"),
        }
        for point in answer.get("Datapoints", [])
    ]
    df = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df.sort_values("timestamp").reset_index(drop=True)


def replication_latency_pairs(table_name, source, destinations, start, end, period_s=60, session=None):
    frames = [
        replication_latency(table_name, source, d, start, end, period_s, session)
        for d in destinations
        if d != source
    ]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=METRIC_COLUMNS)
    return pd.concat(frames, ignore_index=True)

"""A boto3 client of one region of a running ``LocalCloud``, as the end-to-end tests make them: the region's
DynamoDB (or DynamoDB Streams) endpoint from ``cloud.endpoints``, placeholder credentials, and the botocore
``Config`` options a test asks for (most ask for no retries, so that an error shows at once)."""

from __future__ import annotations

import boto3
from botocore.config import Config


def local_client(cloud, region: str, service: str = "dynamodb", **config):
    endpoint = cloud.endpoints["dynamodb" if service == "dynamodb" else "streams"][region]
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(**config),
    )

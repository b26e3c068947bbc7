"""The key-value service's domain core, shared by the Lambda handlers and the local cloud.

Everything in this package (except ``backend.local`` and ``backend.tools``) is deployed to Lambda, so it
imports nothing beyond the standard library and boto3/botocore, which the Lambda runtime ships.
"""

"""The local cloud's one adapter for moto: ``LocalDynamoDB`` (a region's DynamoDB), ``patches`` (every patch of
moto, with the version and internals each relies on), ``streams`` (the stream janitor), ``dynamodb_only`` (what a region process leaves out of moto)."""

from backend.local.dynamodb.local import LocalDynamoDB

__all__ = ["LocalDynamoDB"]

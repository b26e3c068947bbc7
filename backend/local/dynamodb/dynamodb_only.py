"""A region process serves DynamoDB only, so it does not load moto's IAM and Lambda backends.

moto 5.2.5 imports ``moto.iam.models`` on every request (to count the access key's use, and to find its account) and
``moto.awslambda`` on every stream record (to feed Lambda event source mappings). Importing them loads IAM's managed
policies, the ``cryptography`` package, ECR and more: about 15 MB of resident memory in each region process (80 vs
95 MB measured after 2,000 get_item calls), for calls that do nothing here: a local region knows no IAM user, and
its tables have no Lambda event source mappings. ``install()`` puts small stand-ins for those modules in
``sys.modules`` before moto is imported; whatever else asks them for something gets a clear error instead.

Only the region process calls it (``backend.local.region.main``): a test process that uses moto's IAM keeps it.
"""

from __future__ import annotations

import sys
import types

from backend.local.dynamodb.patches import DEFAULT_ACCOUNT_ID

NOT_HERE = "a local region serves DynamoDB only: moto's {} is not loaded in its process"


class _DynamoDBOnlyModule(types.ModuleType):
    """A stand-in module: anything it does not define is refused with a clear error."""

    def __getattr__(self, name: str):
        raise AttributeError(f"{NOT_HERE.format(self.__name__)} ({name} asked for)")


def _mark_account_as_visited(account_id: str, access_key: str, service: str, region: str) -> None:
    """IAM's "access key last used": no IAM user exists in a local region, so there is nothing to mark."""


def _get_account_id_from(access_key: str) -> str:
    """Every local region is the one default account (MOTO_ACCOUNT_ID, when set, is honoured before this call)."""
    return DEFAULT_ACCOUNT_ID


class _IAMAuthorization:
    """Used by moto only when IAM authorization is switched on (INITIAL_NO_AUTH_ACTION_COUNT), never here."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(NOT_HERE.format("IAM authorization"))


def _lambda_backend(account_id: str, region: str):
    raise RuntimeError(NOT_HERE.format("Lambda (event source mappings)"))


def _module(name: str, package: bool = False, **attributes) -> types.ModuleType:
    module = _DynamoDBOnlyModule(name)
    if package:
        module.__path__ = []
    module.__dict__.update(attributes)
    return module


def install() -> bool:
    """Installs the stand-ins; False (and nothing changed) when moto's IAM or Lambda is already imported."""
    if any(name in sys.modules for name in ("moto.iam", "moto.awslambda")):
        return False
    iam_models = _module(
        "moto.iam.models",
        mark_account_as_visited=_mark_account_as_visited,
        get_account_id_from=_get_account_id_from,
    )
    access_control = _module(
        "moto.iam.access_control", IAMRequest=_IAMAuthorization, S3IAMRequest=_IAMAuthorization
    )
    lambda_utils = _module("moto.awslambda.utils", get_backend=_lambda_backend)
    sys.modules.update(
        {
            "moto.iam": _module("moto.iam", package=True, models=iam_models, access_control=access_control),
            "moto.iam.models": iam_models,
            "moto.iam.access_control": access_control,
            "moto.awslambda": _module("moto.awslambda", package=True, utils=lambda_utils),
            "moto.awslambda.utils": lambda_utils,
        }
    )
    return True

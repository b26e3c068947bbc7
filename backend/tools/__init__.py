"""Operator tools run from a workstation or CI (never packaged into the Lambda functions)."""

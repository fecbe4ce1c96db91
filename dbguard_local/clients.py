"""boto3 clients for a running local stack, from another process (scripts, a developer's shell)."""

from __future__ import annotations

import os
from typing import Any

import boto3

REGION = "eu-central-1"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_PORTS = {"aws": ("DBGUARD_AWS_PORT", "4566"), "lambda": ("DBGUARD_LAMBDA_PORT", "3001")}


def local_client(service: str, endpoint: str = "aws") -> Any:
    """`endpoint`: "aws" (the embedded moto) or "lambda" (the local functions' Invoke API)."""
    variable, default = _PORTS[endpoint]
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{os.environ.get(variable, default)}",
        region_name=REGION,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )

"""boto3 clients and SigV4-signed API requests for a running local stack, from another process
(scripts, a developer's shell)."""

from __future__ import annotations

import os
from typing import Any

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

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


def signed_get(path: str, url: str | None = None, accept: str = "application/json") -> requests.Response:
    """A SigV4-signed GET (service execute-api), as an IAM-authorised caller sends it: to `url` - a
    deployment's stack output, signed with your own AWS credentials - or else to `path` on the running
    local stack's API (127.0.0.1:$DBGUARD_GATEWAY_PORT/v1), signed with the local credentials."""
    if url:
        credentials = boto3.Session().get_credentials()
    else:
        url = f"http://127.0.0.1:{os.environ.get('DBGUARD_GATEWAY_PORT', '3000')}/v1{path}"
        credentials = Credentials(
            LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"], LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
        )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or REGION
    request = AWSRequest(method="GET", url=url, headers={"Accept": accept})
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return requests.get(url, headers=dict(request.headers), timeout=60)

"""boto3 clients and SigV4-signed API requests for a running local stack, from another process
(scripts, a developer's shell). Where it listens comes from the file `make run` writes
(dbguard_local/endpoints.py), never from a guessed port."""

from __future__ import annotations

import os
from typing import Any

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from dbguard_local import endpoints

REGION = "eu-central-1"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def local_client(service: str, endpoint: str = "aws") -> Any:
    """`endpoint`: "aws" (the embedded moto) or "lambda" (the local functions' Invoke API).
    Raises endpoints.NoLocalStack when no `make run` is running."""
    running = endpoints.read()
    return boto3.client(
        service,
        endpoint_url=running.lambda_api if endpoint == "lambda" else running.aws,
        region_name=running.region,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def signed_get(path: str, url: str | None = None, accept: str = "application/json") -> requests.Response:
    """A SigV4-signed GET (service execute-api), as an IAM-authorised caller sends it: to `url` - a
    deployment's stack output, signed with your own AWS credentials - or else to `path` (its query
    already URL-encoded) on the running local stack's API, signed with the local credentials."""
    if url:
        session = boto3.Session()
        credentials = session.get_credentials()
        region = os.environ.get("AWS_REGION") or session.region_name or REGION
    else:
        running = endpoints.read()
        url, region = f"{running.api_url}{path}", running.region
        credentials = Credentials(
            LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"], LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
        )
    request = AWSRequest(method="GET", url=url, headers={"Accept": accept})
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return requests.get(url, headers=dict(request.headers), timeout=60)

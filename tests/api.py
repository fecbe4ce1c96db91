"""Driving the HTTP functions with API Gateway events, as tests see them."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse

from dbguard_local.apigateway import proxy_event


@dataclass
class HttpAnswer:
    status: int
    body: Any
    headers: dict[str, str]


def call(
    function, method: str, path: str, *, resource: str, body: bytes | None = None, **kwargs
) -> HttpAnswer:
    response = function.invoke(proxy_event(method, path, resource=resource, body=body, **kwargs))
    text = response.get("body") or "null"
    headers = dict(response.get("headers") or {})
    headers.update({name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()})
    return HttpAnswer(response["statusCode"], json.loads(text), headers)


def fail_dynamodb_calls(client, operation: str, code: str, times: int | None = None) -> list[int]:
    """Make `client`'s `operation` answer with DynamoDB error `code` (every call, or the next
    `times` calls). Returns a list that counts the refused calls."""
    return fail_calls(client, operation, code, times)


def fail_calls(client, operation: str, code: str, times: int | None = None) -> list[int]:
    """Make any boto3 `client`'s `operation` answer with error `code`, as fail_dynamodb_calls."""
    refused: list[int] = []
    lock = threading.Lock()  # the store writes from several threads

    def refuse(**_: Any) -> tuple[AWSResponse, dict] | None:
        with lock:
            if times is not None and len(refused) >= times:
                return None
            refused.append(1)
        body = {"Error": {"Code": code, "Message": "injected by the test"}, "ResponseMetadata": {}}
        return AWSResponse("https://dynamodb.local", 400, {}, None), body

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{service}.{operation}", refuse)
    return refused

"""What the HTTP functions share at run time: the route API Gateway matched, the request body as the
client sent it, and the Lambda proxy answer, errors answered by their own `http_status`.

Every error answer is `{"msg": "<what went wrong>", "errors": [{"field": ..., "msg": ...}]}`.
Bad input is always a 4xx and never echoes the input back (it may hold a token or a password).
How the answers are documented is `dbguard.http_openapi`, which no function imports.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from dbguard.errors import DbguardError, InvalidInput, MalformedInput, Problem, StorageUnavailable
from dbguard.metric_catalogue import REQUESTS_REJECTED, STORAGE_THROTTLED
from dbguard.observability import emit, logger

ProxyEvent = Mapping[str, Any]
ProxyAnswer = dict[str, Any]
Route = Callable[[ProxyEvent], ProxyAnswer]


def answer_route(event: ProxyEvent, routes: Mapping[tuple[str, str], Route]) -> ProxyAnswer:
    """The answer of the route API Gateway matched (`routes` is keyed by method and resource, such
    as ("GET", "/audit/events/{id}")), the answer to the dbguard error it raised, or a 404."""
    route = routes.get((event.get("httpMethod", ""), event.get("resource", "")))
    if route is None:
        return error_response(HTTPStatus.NOT_FOUND, "no such route")
    try:
        return route(event)
    except DbguardError as error:
        return error_answer(error)


def request_header(event: ProxyEvent, name: str) -> str:
    """A request header's value, "" when absent; header names are case-insensitive."""
    wanted = name.lower()
    headers: Mapping[str, str] = event.get("headers") or {}
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def request_body(event: ProxyEvent) -> bytes:
    """The body's bytes as the client sent them (API Gateway base64-encodes binary media types)."""
    body: str = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise MalformedInput("request body is marked base64 but is not valid base64") from None


def proxy_answer(
    status: HTTPStatus, content_type: str, body: str, headers: Mapping[str, str] | None = None
) -> ProxyAnswer:
    """A Lambda proxy integration answer; API Gateway REST reads every header from multiValueHeaders."""
    multi_value_headers = {"Content-Type": [content_type]} | {
        name: [value] for name, value in (headers or {}).items()
    }
    return {
        "statusCode": int(status),
        "multiValueHeaders": multi_value_headers,
        "body": body,
        "isBase64Encoded": False,
    }


def json_response(status: HTTPStatus, body: Any, headers: Mapping[str, str] | None = None) -> ProxyAnswer:
    return proxy_answer(status, "application/json", json.dumps(body, separators=(",", ":")), headers)


def error_response(
    status: HTTPStatus,
    msg: str,
    problems: list[Problem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProxyAnswer:
    errors = [{"field": problem.field, "msg": problem.message} for problem in problems or []]
    return json_response(status, {"msg": msg, "errors": errors}, headers)


def error_answer(error: DbguardError) -> ProxyAnswer:
    """The answer to a dbguard error, with the status the error carries; one without a status is
    not the client's to fix and fails the invocation (5xx from API Gateway, the error alarm)."""
    status = error.http_status
    if status is None:
        raise error
    if isinstance(error, StorageUnavailable):
        emit(STORAGE_THROTTLED, 1)
        logger.warning("storage unavailable; client told to retry", extra={"reason": str(error)})
        return error_response(
            status,
            f"storage is busy or unavailable; retry in {error.retry_after} seconds",
            headers={"Retry-After": str(error.retry_after)},
        )
    problems = error.problems if isinstance(error, InvalidInput) else []
    emit(REQUESTS_REJECTED, 1)
    logger.info("request rejected", extra={"status": int(status), "reason": str(error)})
    return error_response(status, str(error), problems)

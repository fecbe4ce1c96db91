"""What the HTTP functions share: one error body shape and the mapping of domain errors to statuses.

Every error answer is `{"msg": "<what went wrong>", "errors": [{"field": ..., "msg": ...}]}`.
Bad input is always a 4xx and never echoes the input back (it may hold a token or a password).
"""

from __future__ import annotations

import base64
import binascii
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, Field

from dbguard.errors import (
    InvalidInput,
    InvalidQuery,
    MalformedInput,
    PayloadTooLarge,
    Problem,
    StorageUnavailable,
)
from dbguard.observability import logger, metrics


class FieldError(BaseModel):
    field: str = Field(description="where: a dotted/indexed path, or a parameter name")
    msg: str = Field(description="what is wrong with it")


class ErrorBody(BaseModel):
    msg: str = Field(description="what went wrong, readable by a person")
    errors: list[FieldError] = Field(description="one entry per problem found; may be empty")


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


# The error answers every route can give, for the OpenAPI document.
ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    400: _error("Bad input: the request is malformed or a filter is invalid"),
    404: _error("No such route or object"),
    503: _error("Storage is busy or unavailable; retry after Retry-After seconds"),
}


def json_response(status: HTTPStatus, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers
    )


def error_response(
    status: HTTPStatus, msg: str, problems: list[Problem] | None = None, headers: dict[str, str] | None = None
) -> Response:
    errors = [{"field": problem.field, "msg": problem.message} for problem in problems or []]
    return json_response(status, {"msg": msg, "errors": errors}, headers)


def request_body(event: Any) -> bytes:
    """The body's bytes as the client sent them (API Gateway base64-encodes binary media types)."""
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise MalformedInput("request body is marked base64 but is not valid base64") from None


def _status_of(error: InvalidInput) -> HTTPStatus:
    if isinstance(error, PayloadTooLarge):
        return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    if isinstance(error, (MalformedInput, InvalidQuery)):
        return HTTPStatus.BAD_REQUEST
    return HTTPStatus.UNPROCESSABLE_ENTITY


def storage_unavailable(error: StorageUnavailable) -> Response:
    metrics.add_metric(name="StorageThrottled", unit=MetricUnit.Count, value=1)
    logger.warning("storage unavailable; client told to retry", extra={"reason": str(error)})
    return error_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        f"storage is busy or unavailable; retry in {error.retry_after} seconds",
        headers={"Retry-After": str(error.retry_after)},
    )


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(InvalidInput)
    def _invalid_input(error: InvalidInput) -> Response:
        status = _status_of(error)
        metrics.add_metric(name="RequestsRejected", unit=MetricUnit.Count, value=1)
        logger.info("request rejected", extra={"status": int(status), "reason": error.summary})
        return error_response(status, error.summary, error.problems)

    app.exception_handler(StorageUnavailable)(storage_unavailable)

    @app.not_found
    def _no_such_route(_: Exception) -> Response:
        return error_response(HTTPStatus.NOT_FOUND, "no such route")

"""What the HTTP functions share: one error body shape, errors answered by their own `http_status`,
and the OpenAPI description of a query string from the model that validates it.

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
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel, Field

from dbguard.errors import DbguardError, InvalidInput, MalformedInput, Problem, StorageUnavailable
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


def json_response(status: HTTPStatus, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers
    )


def error_response(
    status: HTTPStatus, msg: str, problems: list[Problem] | None = None, headers: dict[str, str] | None = None
) -> Response[Any]:
    errors = [{"field": problem.field, "msg": problem.message} for problem in problems or []]
    return json_response(status, {"msg": msg, "errors": errors}, headers)


def request_body(event: APIGatewayProxyEvent) -> bytes:
    """The body's bytes as the client sent them (API Gateway base64-encodes binary media types)."""
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise MalformedInput("request body is marked base64 but is not valid base64") from None


def error_answer(error: DbguardError) -> Response[Any]:
    """The answer to a dbguard error, with the status the error carries; one without a status is
    not the client's to fix and fails the invocation (5xx from API Gateway, the error alarm)."""
    status = error.http_status
    if status is None:
        raise error
    if isinstance(error, StorageUnavailable):
        metrics.add_metric(name="StorageThrottled", unit=MetricUnit.Count, value=1)
        logger.warning("storage unavailable; client told to retry", extra={"reason": str(error)})
        return error_response(
            status,
            f"storage is busy or unavailable; retry in {error.retry_after} seconds",
            headers={"Retry-After": str(error.retry_after)},
        )
    problems = error.problems if isinstance(error, InvalidInput) else []
    metrics.add_metric(name="RequestsRejected", unit=MetricUnit.Count, value=1)
    logger.info("request rejected", extra={"status": int(status), "reason": str(error)})
    return error_response(status, str(error), problems)


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    app.exception_handler(DbguardError)(error_answer)

    @app.not_found
    def _no_such_route(_: Exception) -> Response[Any]:
        return error_response(HTTPStatus.NOT_FOUND, "no such route")


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI parameters of a query string that `model` validates, one per field (by alias).

    For a route whose handler validates its query string with the model itself rather than through
    Powertools' validation layer, so the document cannot drift from what the code accepts."""
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        field_schema = _not_null(field)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": field_schema}
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameters.append(parameter)
    return parameters


def _not_null(field: dict[str, Any]) -> dict[str, Any]:
    """An optional field's schema without its `null` branch: a query parameter is left out, never null."""
    options = [option for option in field.get("anyOf", ()) if option != {"type": "null"}]
    if "anyOf" not in field or len(options) != 1:
        return field
    rest = {
        key: value for key, value in field.items() if key != "anyOf" and (key, value) != ("default", None)
    }
    return {**options[0], **rest}

"""The HTTP functions' answers as the OpenAPI document describes them (scripts/generate_openapi.py):
the error body's model, the error answers every route can give, and a query string's parameters
from the model that validates it. Documentation only: no function imports it, so none of it is
built on a cold start.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    field: str = Field(description="where: a dotted/indexed path, or a parameter name")
    msg: str = Field(description="what is wrong with it")


class ErrorBody(BaseModel):  # what dbguard.http_api.error_response answers
    msg: str = Field(description="what went wrong, readable by a person")
    errors: list[FieldError] = Field(description="one entry per problem found; may be empty")


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = {"description": description, "content": {"application/json": {"model": ErrorBody}}}
    return answer | ({"headers": headers} if headers else {})


RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}
}

# The error answers every route can give (API Gateway answers 403 itself, in the same body).
ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    400: _error("Bad input: a query parameter is unknown, repeated or invalid"),
    403: _error("Refused by API Gateway before any function runs: the caller's source address is "
                "outside the resource policy, or the credentials do not authorise the call"),
    404: _error("No such route or object"),
    503: _error("Storage is busy or unavailable; retry after Retry-After seconds", RETRY_AFTER),
}  # fmt: skip
# The ingest: its token and its body.
INGEST_ERRORS: dict[int, dict[str, Any]] = {
    400: _error("The body is empty, not UTF-8 text, not JSON (NaN and Infinity are not JSON) or "
                "marked base64 but not base64; nothing was stored"),
    401: _error("No ?token= in the URL (API Gateway answers, the authorizer is not asked)"),
    403: _error("The token is not one of IngestTokenSecretArn's, or the source address is outside "
                "AllowedSourceCidrs"),
}  # fmt: skip
# GET /audit/events: how a CSV page says what its body cannot.
CSV_HEADERS = {
    "X-Next-Cursor": {"description": "the next page's cursor (as JSON's nextCursor); absent on the last page",
                      "schema": {"type": "string"}},
    "X-Incomplete-Events": {"description": "how many events of this page could be stored only in part "
                            "(JSON's `notice`); absent when none", "schema": {"type": "integer"}},
}  # fmt: skip


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI parameters of a query string that `model` validates, one per field (by alias),
    so the document cannot drift from what the code accepts."""
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

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


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


# The error answers every route can give.
ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    400: _error("Bad input: the request is malformed or a filter is invalid"),
    404: _error("No such route or object"),
    503: _error("Storage is busy or unavailable; retry after Retry-After seconds"),
}


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

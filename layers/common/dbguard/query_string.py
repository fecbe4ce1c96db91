"""A query string as a model: API Gateway's multiValueQueryStringParameters validated by the pydantic
model that also describes them in the OpenAPI document (http_openapi.query_parameters), so the
document and the checks cannot disagree. Unknown or repeated names and invalid values are a 400
that names the parameter, never its value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from dbguard.errors import InvalidQuery, Problem
from dbguard.validation import problems_from, summary

Model = TypeVar("Model", bound=BaseModel)


def parse_query_string(
    model: type[Model], parameters: Mapping[str, Sequence[str]], noun: str = "parameter"
) -> Model:
    """`parameters`: each name with the values it was given; `noun`: what the API calls one."""
    allowed = sorted(field.alias or name for name, field in model.model_fields.items())
    unknown = sorted(set(parameters) - set(allowed))
    if unknown:
        raise InvalidQuery(
            f"unknown query parameter(s): {', '.join(unknown)}",
            [Problem(name, f"not a {noun}; use {', '.join(allowed)}") for name in unknown],
        )
    repeated = sorted(name for name, values in parameters.items() if len(values) > 1)
    if repeated:
        raise InvalidQuery(f"give each {noun} once: {', '.join(repeated)}")
    try:
        return model.model_validate({name: values[0] for name, values in parameters.items() if values})
    except ValidationError as error:
        problems = problems_from(error)
        raise InvalidQuery(summary(problems), problems) from None

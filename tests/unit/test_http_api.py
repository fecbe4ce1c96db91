"""Errors answered through the status they carry, and a query model described as OpenAPI parameters."""

import json
from http import HTTPStatus

import pytest
from pydantic import BaseModel, Field

from dbguard.errors import (
    ConfigurationError,
    DbguardError,
    InvalidInput,
    InvalidQuery,
    MalformedInput,
    PayloadTooLarge,
    Problem,
    RejectedChange,
    StorageUnavailable,
)
from dbguard.http_api import error_answer, query_parameters


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("not an event", [Problem("name", "field required")]), 422),
        (MalformedInput("not JSON"), 400),
        (InvalidQuery("'from' is after 'to'"), 400),
        (PayloadTooLarge("too big"), 413),
    ],
)
def test_bad_input_is_answered_with_its_own_status_and_problems(error: InvalidInput, status: int):
    answer = error_answer(error)
    assert answer.status_code == status
    body = json.loads(answer.body) if isinstance(answer.body, str) else answer.body
    assert body == {
        "msg": error.summary,
        "errors": [{"field": p.field, "msg": p.message} for p in error.problems],
    }


def test_storage_unavailable_is_a_503_with_retry_after_and_no_internal_reason():
    answer = error_answer(StorageUnavailable("DynamoDB refused the write (ThrottlingException)", 7))
    assert (answer.status_code, answer.headers["Retry-After"]) == (HTTPStatus.SERVICE_UNAVAILABLE, "7")
    assert "Throttling" not in json.dumps(answer.body)


@pytest.mark.parametrize(
    "error", [ConfigurationError("bad setting"), RejectedChange("name taken"), DbguardError()]
)
def test_an_error_without_a_status_fails_the_invocation(error: DbguardError):
    with pytest.raises(type(error)):
        error_answer(error)


class Query(BaseModel):
    name: str | None = Field(default=None, max_length=8, description="who")
    limit: int = Field(default=10, ge=1)
    required: str


def test_query_parameters_are_one_per_field_never_null():
    parameters = {parameter["name"]: parameter for parameter in query_parameters(Query)}
    assert parameters["name"] == {
        "name": "name", "in": "query", "required": False, "description": "who",
        "schema": {"type": "string", "maxLength": 8, "description": "who", "title": "Name"},
    }  # fmt: skip
    assert parameters["limit"]["schema"]["default"] == 10
    assert parameters["required"]["required"] is True

"""Routes answered as API Gateway proxy answers, errors through the status they carry, and a query
model described as OpenAPI parameters."""

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
from dbguard.http_api import answer_route, error_answer, json_response, request_body, request_header
from dbguard.http_openapi import query_parameters


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
    assert answer["statusCode"] == status
    assert answer["multiValueHeaders"] == {"Content-Type": ["application/json"]}
    assert json.loads(answer["body"]) == {
        "msg": error.summary,
        "errors": [{"field": p.field, "msg": p.message} for p in error.problems],
    }


def test_storage_unavailable_is_a_503_with_retry_after_and_no_internal_reason():
    answer = error_answer(StorageUnavailable("DynamoDB refused the write (ThrottlingException)", 7))
    assert (answer["statusCode"], answer["multiValueHeaders"]["Retry-After"]) == (503, ["7"])
    assert "Throttling" not in answer["body"]


@pytest.mark.parametrize(
    "error", [ConfigurationError("bad setting"), RejectedChange("name taken"), DbguardError()]
)
def test_an_error_without_a_status_fails_the_invocation(error: DbguardError):
    with pytest.raises(type(error)):
        error_answer(error)


def _stored(event: dict) -> dict:
    return json_response(HTTPStatus.CREATED, {"id": event["pathParameters"]["id"]})


def _refused(_: dict) -> dict:
    raise MalformedInput("not JSON")


ROUTES = {("PUT", "/things/{id}"): _stored, ("POST", "/things"): _refused}


def test_the_route_api_gateway_matched_answers():
    event = {"httpMethod": "PUT", "resource": "/things/{id}", "pathParameters": {"id": "7"}}
    assert answer_route(event, ROUTES) == {
        "statusCode": 201,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "body": '{"id":"7"}',
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("method", "resource"), [("GET", "/things/{id}"), ("PUT", "/things"), ("PUT", "/nowhere"), ("", "")]
)
def test_a_method_or_resource_without_a_route_is_a_json_404(method: str, resource: str):
    answer = answer_route({"httpMethod": method, "resource": resource}, ROUTES)
    assert (answer["statusCode"], json.loads(answer["body"])) == (404, {"msg": "no such route", "errors": []})


def test_a_route_s_dbguard_error_is_answered_with_its_status():
    answer = answer_route({"httpMethod": "POST", "resource": "/things"}, ROUTES)
    assert (answer["statusCode"], json.loads(answer["body"])["msg"]) == (400, "not JSON")


def test_an_error_without_a_status_escapes_the_route():
    def misconfigured(_: dict) -> dict:
        raise ConfigurationError("bad setting")

    with pytest.raises(ConfigurationError):
        answer_route({"httpMethod": "GET", "resource": "/"}, {("GET", "/"): misconfigured})


def test_header_names_are_case_insensitive():
    event = {"headers": {"ACCEPT": "text/csv"}}
    assert (request_header(event, "Accept"), request_header(event, "X-Other")) == ("text/csv", "")
    assert request_header({"headers": None}, "Accept") == ""


@pytest.mark.parametrize(
    ("body", "is_base64", "expected"),
    [("{}", False, b"{}"), ("/w==", True, b"\xff"), (None, False, b""), ("\udcff", False, b"\xed\xb3\xbf")],
)
def test_the_body_is_the_bytes_the_client_sent(body: str | None, is_base64: bool, expected: bytes):
    assert request_body({"body": body, "isBase64Encoded": is_base64}) == expected


def test_a_body_marked_base64_that_is_not_is_malformed():
    with pytest.raises(MalformedInput):
        request_body({"body": "!!!", "isBase64Encoded": True})


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

import base64
import json

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from dbguard_local.apigateway import proxy_event
from dbguard_testkit.samples import SECRET_IN_EVENT, body_of, connection_event, ddl_event
from tests.api import call, fail_dynamodb_calls

INGEST_TOKEN = "ingest-token-that-must-never-be-logged-0001"


@pytest.fixture
def ingest(load_function):
    return load_function("AuditIngestFunction")


@pytest.fixture
def table(stack):
    name = stack.physical_ids["AuditEventsTable"]
    dynamodb = boto3.client("dynamodb")

    def items():
        return dynamodb.scan(TableName=name)["Items"]

    return items


def post(function, body: bytes, **kwargs):
    return call(
        function,
        "POST",
        "/audit/events",
        resource="/audit/events",
        body=body,
        query={"token": [INGEST_TOKEN]},
        headers={"Content-Type": "application/json"},
        **kwargs,
    )


def test_a_new_event_is_stored_once_and_answered_201(ingest, table):
    answer = post(ingest, body_of(connection_event()))
    assert answer.status == 201
    assert answer.body == {"id": answer.body["id"], "duplicate": False}
    (item,) = table()
    assert item["id"]["S"] == answer.body["id"]
    assert item["userLogin"]["S"] == "app_billing"
    assert json.loads(item["raw"]["S"]) == connection_event()


def test_a_retried_post_answers_200_duplicate_and_writes_nothing(ingest, table):
    first = post(ingest, body_of(connection_event()))
    stored = table()
    again = post(ingest, body_of(connection_event()))
    assert again.status == 200
    assert again.body == {"id": first.body["id"], "duplicate": True}
    assert table() == stored


def test_an_array_gets_a_result_per_event_in_order(ingest, table):
    answer = post(ingest, body_of([connection_event(), ddl_event()]))
    assert answer.status == 201
    assert [r["duplicate"] for r in answer.body["results"]] == [False, False]
    assert answer.body["stored"] == 2
    assert answer.body["duplicates"] == 0
    assert {item["id"]["S"] for item in table()} == {r["id"] for r in answer.body["results"]}


def test_duplicates_inside_an_array_and_across_requests_are_stored_once(ingest, table):
    post(ingest, body_of(ddl_event()))
    answer = post(ingest, body_of([connection_event(), connection_event(), ddl_event()]))
    assert answer.status == 201
    assert [r["duplicate"] for r in answer.body["results"]] == [False, True, True]
    assert answer.body["results"][0]["id"] == answer.body["results"][1]["id"]
    assert len(table()) == 2
    only_duplicates = post(ingest, body_of([connection_event(), ddl_event()]))
    assert only_duplicates.status == 200
    assert only_duplicates.body["stored"] == 0


def test_events_arriving_out_of_order_are_all_stored(ingest, table):
    for moment in (1_785_000_900_000, 1_785_000_000_000, 1_785_000_500_000):
        assert post(ingest, body_of(connection_event(Datetime=moment))).status == 201
    assert sorted(int(item["Datetime"]["N"]) for item in table()) == [
        1_785_000_000_000,
        1_785_000_500_000,
        1_785_000_900_000,
    ]


def test_unknown_fields_are_preserved_in_the_raw_payload(ingest, table):
    event = connection_event(applicationName="psql", qhbExtension={"level": 2, "ratio": 0.5})
    post(ingest, body_of(event))
    assert json.loads(table()[0]["raw"]["S"]) == event


def test_a_base64_encoded_body_is_decoded(ingest, table):
    event = proxy_event("POST", "/audit/events", resource="/audit/events", body=body_of(ddl_event()))
    event["body"] = base64.b64encode(body_of(ddl_event())).decode()
    event["isBase64Encoded"] = True
    assert ingest.invoke(event)["statusCode"] == 201
    assert len(table()) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"this is not json", 400),
        (b'{"Datetime": 1', 400),
        (b"[]", 422),
        (b"17", 422),
        (body_of({"tags": []}), 422),
        (body_of(connection_event(Datetime="2026-11-24T10:00:00Z")), 422),
        (body_of(connection_event(params=[["database", "billing"]])), 422),
        (body_of([connection_event(), {"name": "half an event"}]), 422),
        (body_of([connection_event()] * 101), 413),
        (body_of(connection_event(params=[{"Name": "sql", "Value": "x" * 60_000}] * 3)), 413),
        (b"{" + b" " * 1_100_000 + b"}", 413),
    ],
    ids=[
        "empty",
        "not-json",
        "truncated",
        "empty-array",
        "number",
        "missing-fields",
        "datetime-as-string",
        "params-as-lists",
        "one-bad-in-array",
        "too-many-events",
        "event-too-large",
        "body-too-large",
    ],
)
def test_bad_input_gets_a_clear_4xx_and_stores_nothing(ingest, table, body, status):
    answer = post(ingest, body)
    assert answer.status == status
    assert answer.body["msg"]
    assert isinstance(answer.body["errors"], list)
    assert table() == []


def test_validation_errors_name_each_field(ingest):
    event = connection_event(Datetime=1.5)
    del event["serviceName"]
    answer = post(ingest, body_of(event))
    assert answer.status == 422
    assert {error["field"] for error in answer.body["errors"]} == {"Datetime", "serviceName"}
    assert all(error["msg"] for error in answer.body["errors"])


def dynamodb_of(ingest):
    """The DynamoDB client the function's store writes with."""
    return ingest.module.audit.ingest.writer._dynamodb


def test_throttled_storage_answers_503_with_retry_after(ingest, table):
    refused = fail_dynamodb_calls(dynamodb_of(ingest), "PutItem", "ProvisionedThroughputExceededException")
    answer = post(ingest, body_of(connection_event()))
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "5"
    assert refused
    assert table() == []


def test_unreachable_storage_answers_503(ingest):
    def unreachable(**_):
        raise EndpointConnectionError(endpoint_url="https://dynamodb.local")

    dynamodb_of(ingest).meta.events.register("before-call.dynamodb.PutItem", unreachable)
    answer = post(ingest, body_of(connection_event()))
    assert answer.status == 503
    assert "Retry-After" in answer.headers


def test_a_retry_after_a_partial_throttle_stores_every_event_exactly_once(ingest, table):
    events = [connection_event(Datetime=1_785_000_000_000 + i) for i in range(6)]
    fail_dynamodb_calls(dynamodb_of(ingest), "PutItem", "ThrottlingException", times=2)
    assert post(ingest, body_of(events)).status == 503
    assert len(table()) == 4
    retry = post(ingest, body_of(events))
    assert retry.status == 201
    assert retry.body["stored"] == 2
    assert retry.body["duplicates"] == 4
    assert len(table()) == 6


def test_an_unknown_route_is_a_json_404(ingest):
    answer = call(ingest, "GET", "/nowhere", resource="/nowhere")
    assert answer.status == 404
    assert answer.body["msg"]


def test_neither_the_token_nor_event_contents_reach_the_logs(ingest, capsys):
    secret_event = connection_event(params=[{"Name": "password", "Value": SECRET_IN_EVENT}])
    post(ingest, body_of(secret_event))
    post(ingest, body_of(connection_event(params=[{"Name": "password", "Value": 7}], note=SECRET_IN_EVENT)))
    post(ingest, b'{"password": "' + SECRET_IN_EVENT.encode() + b'"')
    captured = capsys.readouterr()
    logs = captured.out + captured.err
    assert "audit events accepted" in logs  # the capture does see the function's logs
    assert INGEST_TOKEN not in logs
    assert SECRET_IN_EVENT not in logs


def deeply_nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels - 1):
        value = {"x": value}
    return value


def spliced(raw_json: str) -> bytes:
    """An event whose unknown field `qhbExtension` holds `raw_json` as written (json.dumps would
    not write these)."""
    return body_of(connection_event(qhbExtension="SPLICE")).replace(b'"SPLICE"', raw_json.encode())


@pytest.mark.parametrize(
    ("body", "status", "field", "fragment"),
    [
        (body_of(connection_event(qhbExtension=deeply_nested(600))), 422,
         "qhbExtension" + ".x" * 31, "nested deeper than 32 levels"),
        (spliced('{"big": 1e999}'), 422, "qhbExtension.big", "number out of range"),
        (spliced('{"n": ' + "1" * 39 + "}"), 422, "qhbExtension.n", "38 significant digits"),
        (spliced('{"tiny": 1e-131}'), 422, "qhbExtension.tiny", "1E-130"),
        (spliced('{"ratio": NaN}'), 400, "qhbExtension.ratio", "NaN is not a JSON number"),
        (spliced("[Infinity]"), 400, "qhbExtension[0]", "Infinity is not a JSON number"),
        (spliced('{"level": 1, "level": 2}'), 422, "qhbExtension.level", "duplicate key"),
        (body_of(connection_event(qhbExtension="x" * 40_000)), 413, "qhbExtension", "32768"),
    ],
    ids=["nested-600", "1e999", "39-digits", "too-small", "nan", "infinity", "duplicate-key",
         "unknown-too-large"],
)  # fmt: skip
def test_values_that_cannot_be_stored_or_read_back_get_a_4xx_naming_their_path(
    ingest, table, body, status, field, fragment
):
    answer = post(ingest, body)
    assert answer.status == status
    assert [error["field"] for error in answer.body["errors"]] == [field]
    assert fragment in json.dumps(answer.body)
    assert table() == []


def test_nesting_at_the_limit_and_numbers_at_dynamodb_limits_are_stored(ingest, table):
    # levels: the event 1, qhbExtension's array 2, its object 3, then 29 more: 32 in all
    body = spliced(
        '[{"d": ' + json.dumps(deeply_nested(29)) + "}, 1E-130, 9.9999999999999999999999999999999999999E+125]"
    )
    assert post(ingest, body).status == 201
    assert len(table()) == 1

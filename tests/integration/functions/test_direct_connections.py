"""Direct connections end to end (moto): flagged at ingest, announced once on the default bus (or
dead-lettered), listed with ?direct=true in JSON and CSV."""

import csv
import io
import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from dbguard.audit.direct import ANNOUNCEMENT_DETAIL_TYPE, ANNOUNCEMENT_SOURCE
from dbguard_local.announcements import route_announcements_to_queue
from dbguard_local.apigateway import proxy_event
from dbguard_testkit.samples import (
    DIRECT_CONNECTION_DETAIL,
    body_of,
    connection_event,
    ddl_event,
    direct_connection_event,
)
from tests.api import HttpAnswer, call, fail_calls

PROXY_V4, PROXY_V6 = "10.1.2.50", "2001:db8:1:2::7"
WEEK = {"from": "2026-07-24T00:00:00Z", "to": "2026-07-31T00:00:00Z"}


@pytest.fixture
def template_parameters():
    return {
        "JumpServerProxyCidrs": "10.1.2.50/32,2001:db8:1:2::/64",
        "DirectConnectionExemptLogins": "replicator",
    }


@pytest.fixture
def announcements(stack):
    """What a rule on the default bus matching dbguard's pattern receives."""
    url = route_announcements_to_queue(boto3.Session(), "test")
    sqs = boto3.client("sqs")

    def received():
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(message["Body"]) for message in messages.get("Messages", [])]

    return received


@pytest.fixture
def dead_letters(stack):
    url = stack.physical_ids["DirectConnectionDeadLetterQueue"]
    sqs = boto3.client("sqs")

    def received():
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        )
        return messages.get("Messages", [])

    return received


@pytest.fixture
def ingest(load_function):
    return load_function("AuditIngestFunction")


def post(function, document) -> HttpAnswer:
    return call(function, "POST", "/audit/events", resource="/audit/events", body=body_of(document))


def stored(stack, event_id):
    table = stack.physical_ids["AuditEventsTable"]
    return boto3.client("dynamodb").get_item(TableName=table, Key={"id": {"S": event_id}})["Item"]


def test_a_direct_attempt_is_stored_flagged_and_announced_once(stack, ingest, announcements):
    answer = post(ingest, direct_connection_event())
    assert answer.status == 201
    item = stored(stack, answer.body["id"])
    assert item["direct"] == {"BOOL": True}
    assert item["gsiDirect"]["S"].startswith("direct#")
    (announcement,) = announcements()
    assert announcement["source"] == ANNOUNCEMENT_SOURCE == "dbguard.audit"
    assert announcement["detail-type"] == ANNOUNCEMENT_DETAIL_TYPE == "Direct Database Connection Detected"
    assert announcement["detail"] == {
        "id": answer.body["id"],
        **DIRECT_CONNECTION_DETAIL,
    }


@pytest.mark.parametrize(
    "document",
    [connection_event(userNode=PROXY_V4), connection_event(userNode=PROXY_V6),
     direct_connection_event(userLogin="replicator"), ddl_event(userNode="10.7.31.12")],
    ids=["proxy-v4", "proxy-v6", "exempt-login", "ddl-from-anywhere"],
)  # fmt: skip
def test_proxied_exempt_and_non_connection_events_are_neither_flagged_nor_announced(
    stack, ingest, announcements, document
):
    answer = post(ingest, document)
    assert answer.status == 201
    item = stored(stack, answer.body["id"])
    assert "direct" not in item
    assert "gsiDirect" not in item
    assert announcements() == []


@pytest.mark.parametrize("node", [None, "", "app01.corp.example", "garbage!"])
def test_an_attempt_without_a_provable_address_is_direct(ingest, announcements, node):
    assert post(ingest, direct_connection_event(userNode=node)).status == 201
    (announcement,) = announcements()
    assert announcement["detail"]["userNode"] == node


def test_a_duplicate_delivery_announces_nothing(ingest, announcements):
    first = post(ingest, direct_connection_event())
    again = post(ingest, direct_connection_event())
    in_a_batch = post(ingest, [direct_connection_event(), direct_connection_event()])
    assert (first.status, again.status, in_a_batch.status) == (201, 200, 200)
    assert [a["detail"]["id"] for a in announcements()] == [first.body["id"]]


def test_failed_and_successful_attempts_are_both_announced_and_say_which(ingest, announcements):
    failed = direct_connection_event(
        Datetime=1_785_000_060_000, params=[{"Name": "success", "Value": "false"}]
    )
    answer = post(ingest, [direct_connection_event(), failed, ddl_event()])
    assert answer.body["stored"] == 3
    outcomes = {a["detail"]["Datetime"]: a["detail"]["succeeded"] for a in announcements()}
    assert outcomes == {1_785_000_050_000: True, 1_785_000_060_000: False}


def test_the_metric_counts_newly_stored_direct_connections(ingest, capsys):
    post(ingest, [direct_connection_event(), direct_connection_event(userNode=None), connection_event()])
    post(ingest, direct_connection_event())  # a duplicate: not counted again
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    # the first invocation also writes Powertools' ColdStart metric, a document of its own
    assert [m["DirectConnections"] for m in metrics if "ColdStart" not in m] == [[2], [0]]


def test_a_refused_announcement_is_dead_lettered_as_a_put_events_entry(ingest, announcements, dead_letters):
    refused = fail_calls(ingest.module.audit.ingest.announcer._events, "PutEvents", "InternalException")
    answer = post(ingest, direct_connection_event())
    assert answer.status == 201  # stored; qhb_audit's retry would only be a duplicate
    assert refused
    assert announcements() == []
    (message,) = dead_letters()
    assert message["MessageAttributes"]["reason"]["StringValue"] == "InternalException"
    entry = json.loads(message["Body"])
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        ANNOUNCEMENT_SOURCE, ANNOUNCEMENT_DETAIL_TYPE, "default",
    )  # fmt: skip
    assert json.loads(entry["Detail"])["id"] == answer.body["id"]
    boto3.client("events").put_events(Entries=[entry])  # the documented redrive
    assert [a["detail"]["id"] for a in announcements()] == [answer.body["id"]]


def test_entries_the_bus_answers_with_an_error_code_are_dead_lettered(ingest, dead_letters):
    events = ingest.module.audit.ingest.announcer._events
    answer = {"FailedEntryCount": 1, "Entries": [{"EventId": "e-1"}, {"ErrorCode": "ThrottlingException"}]}
    ok = AWSResponse("https://events.local", 200, {}, None)
    events.meta.events.register("before-call.eventbridge.PutEvents", lambda **_: (ok, answer))
    second = direct_connection_event(Datetime=1_785_000_060_000)
    results = post(ingest, [direct_connection_event(), second]).body["results"]
    (message,) = dead_letters()
    assert message["MessageAttributes"]["reason"]["StringValue"] == "ThrottlingException"
    assert json.loads(json.loads(message["Body"])["Detail"])["id"] == results[1]["id"]


def test_an_unreachable_bus_is_tried_once_per_request_and_everything_dead_lettered(ingest, dead_letters):
    """A hanging bus must not eat the invocation's time, which would lose the announcements."""
    calls = []

    def unreachable(**_):
        calls.append(1)
        raise EndpointConnectionError(endpoint_url="https://events.local")

    ingest.module.audit.ingest.announcer._events.meta.events.register(
        "before-call.eventbridge.PutEvents", unreachable
    )
    documents = [direct_connection_event(Datetime=1_785_000_050_000 + i) for i in range(12)]
    assert post(ingest, documents).body["stored"] == 12
    assert len(calls) == 1  # of two batches of at most 10
    received = dead_letters() + dead_letters()
    assert len(received) == 12
    assert {m["MessageAttributes"]["reason"]["StringValue"] for m in received} == {"EndpointConnectionError"}


def test_when_the_bus_and_the_queue_both_fail_the_ids_are_logged_and_the_event_kept(stack, ingest, capsys):
    announcer = ingest.module.audit.ingest.announcer
    fail_calls(announcer._events, "PutEvents", "InternalException")

    def unreachable(**_):
        raise EndpointConnectionError(endpoint_url="https://sqs.local")

    announcer._sqs.meta.events.register("before-call.sqs.SendMessageBatch", unreachable)
    answer = post(ingest, direct_connection_event())
    assert answer.status == 201
    assert stored(stack, answer.body["id"])["direct"] == {"BOOL": True}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (lost,) = [line for line in lines if line.get("level") == "ERROR"]
    assert lost["ids"] == [answer.body["id"]]
    assert [m["DirectConnectionsUnannounced"] for m in lines if "DirectConnectionsUnannounced" in m] == [[1]]


def test_a_direct_event_stored_next_to_a_failed_write_is_still_announced(ingest, announcements):
    """The retry will find it a duplicate: this request is its only chance to be announced."""
    refused = []

    def throttle_the_ddl_event_once(params, **_):
        if b"DROP TABLE" in params["body"] and not refused:
            refused.append(1)
            error = {"Error": {"Code": "ThrottlingException", "Message": "injected"}, "ResponseMetadata": {}}
            return AWSResponse("https://dynamodb.local", 400, {}, None), error
        return None

    ingest.module.audit.ingest.writer._dynamodb.meta.events.register(
        "before-call.dynamodb.PutItem", throttle_the_ddl_event_once
    )
    batch = [ddl_event(), direct_connection_event()]
    assert post(ingest, batch).status == 503
    assert refused
    retry = post(ingest, batch)
    assert [r["duplicate"] for r in retry.body["results"]] == [False, True]
    assert [a["detail"]["id"] for a in announcements()] == [retry.body["results"][1]["id"]]


# --------------------------------------------------------------------------- the query side
@pytest.fixture
def query(ingest, load_function):
    """Loaded after ingest: each load starts from fresh dbguard modules, as a new container would."""
    return load_function("AuditQueryFunction")


def get(function, path="/audit/events", accept="application/json", **parameters):
    resource = "/audit/events/{id}" if path.count("/") == 3 else "/audit/events"
    answer = function.invoke(
        _event(path, resource, accept, {name: [value] for name, value in parameters.items()})
    )
    body = answer["body"] if accept == "text/csv" else json.loads(answer["body"])
    return answer["statusCode"], body


def _event(path, resource, accept, query):
    event = proxy_event("GET", path, resource=resource, query=query or None, headers={"Accept": accept})
    if resource.endswith("{id}"):
        event["pathParameters"] = {"id": path.rsplit("/", 1)[1]}
    return event


@pytest.fixture
def mixed(ingest):
    """Direct and proxied attempts of two logins, and DDL, over a few minutes."""
    documents = [
        direct_connection_event(Datetime=1_785_000_000_000 + minute * 60_000, userLogin=login, userNode=node)
        for minute, (login, node) in enumerate(
            [("report_job", "10.7.31.12"), ("etl", PROXY_V4), ("etl", "10.9.0.4"), ("report_job", PROXY_V6),
             ("etl", None)]
        )
    ] + [ddl_event(userNode="10.7.31.12")]  # fmt: skip
    results = post(ingest, documents).body["results"]
    return {result["id"]: document for result, document in zip(results, documents, strict=True)}


def test_direct_true_lists_only_direct_events_newest_first_with_the_other_filters(query, mixed):
    status, page = get(query, direct="true", **WEEK)
    assert status == 200
    nodes = [(e["event"]["userLogin"], e["event"]["userNode"]) for e in page["events"]]
    assert nodes == [("etl", None), ("etl", "10.9.0.4"), ("report_job", "10.7.31.12")]
    assert all(e["direct"] is True for e in page["events"])
    _, etl_only = get(query, direct="true", userLogin="etl", **WEEK)
    assert [e["event"]["userNode"] for e in etl_only["events"]] == [None, "10.9.0.4"]


def test_every_event_says_whether_it_is_direct_in_lists_and_by_id(query, mixed):
    _, page = get(query, **WEEK)
    flags = {e["id"]: e["direct"] for e in page["events"]}
    assert flags == {
        event_id: document["name"] == "connection attempt"
        and document["userNode"] not in (PROXY_V4, PROXY_V6)
        for event_id, document in mixed.items()
    }
    direct_id = next(event_id for event_id, flag in flags.items() if flag)
    assert get(query, f"/audit/events/{direct_id}")[1]["direct"] is True


def test_direct_true_in_csv_exports_only_direct_events(query, mixed):
    status, text = get(query, accept="text/csv", direct="true", **WEEK)
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["user"], row["name"]) for row in rows] == [("etl", "connection attempt")] * 2 + [
        ("report_job", "connection attempt")
    ]


@pytest.mark.parametrize("value", ["false", "yes", ""])
def test_direct_takes_only_true(query, value):
    status, body = get(query, direct=value)
    assert status == 400
    assert "direct" in json.dumps(body)


def test_a_cursor_of_a_direct_query_is_bound_to_it(query, mixed):
    _, first = get(query, direct="true", limit="1", **WEEK)
    status, _ = get(query, cursor=first["nextCursor"], limit="1", **WEEK)
    assert status == 400
    _, second = get(query, direct="true", cursor=first["nextCursor"], limit="1", **WEEK)
    assert second["events"][0]["event"]["userNode"] == "10.9.0.4"


# --------------------------------------------------------------------------- the template
def test_the_ingest_function_may_put_events_on_the_default_bus_only_and_dead_letter(stack):
    function = stack.resolve(stack.resources["AuditIngestFunction"]["Properties"])
    statements = [s for policy in function["Policies"] for s in policy["Statement"]]
    grants = {action: statement["Resource"] for statement in statements for action in [statement["Action"]]}
    assert grants["events:PutEvents"] == "arn:aws:events:eu-central-1:123456789012:event-bus/default"
    assert grants["sqs:SendMessage"] == stack.attributes[("DirectConnectionDeadLetterQueue", "Arn")]
    environment = function["Environment"]["Variables"]
    assert environment["JUMPSERVER_PROXY_CIDRS"] == "10.1.2.50/32,2001:db8:1:2::/64"
    assert environment["DIRECT_CONNECTION_EXEMPT_LOGINS"] == "replicator"
    assert environment["CONNECTION_EVENT_NAMES"] == "connection attempt,connection,connect,login"


def test_a_hand_written_direct_attribute_of_another_type_never_breaks_a_read(stack, query, mixed):
    table = stack.physical_ids["AuditEventsTable"]
    some_id = next(iter(mixed))
    boto3.client("dynamodb").update_item(
        TableName=table,
        Key={"id": {"S": some_id}},
        UpdateExpression="SET direct = :odd",
        ExpressionAttributeValues={":odd": {"S": "yes"}},
    )
    status, body = get(query, f"/audit/events/{some_id}")
    assert (status, body["direct"]) == (200, False)

"""Last seen per source on moto: written by audit_ingest and audit_csv_import without a write per
event, read by audit_sources' scheduled check (events on the default bus) and GET /audit/sources."""

from __future__ import annotations

import json

import boto3
import pytest

from dbguard_local.apigateway import proxy_event
from dbguard_testkit.samples import body_of, connection_event
from tests.api import call

INGEST_TOKEN = "ingest-token-that-must-never-be-logged-0001"


@pytest.fixture
def template_parameters():
    return {"ExpectedSources": "qhb-never-sends", "SourceSilenceMinutes": "1"}


def post(function, events):
    return call(function, "POST", "/audit/events", resource="/audit/events", body=body_of(events),
                query={"token": [INGEST_TOKEN]}, headers={"Content-Type": "application/json"})  # fmt: skip


def sources_answer(function) -> dict:
    response = function.invoke(proxy_event("GET", "/audit/sources", resource="/audit/sources"))
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def test_ingest_writes_a_sources_last_seen_once_not_once_per_event(load_function):
    ingest = load_function("AuditIngestFunction")
    ledger = ingest.module.audit.ingest.sources
    writes = []
    ledger._dynamodb._made.meta.events.register(
        "before-call.dynamodb.UpdateItem", lambda **_: writes.append(1)
    )
    for batch in range(20):
        events = [connection_event(Datetime=1_785_000_000_000 + batch * 100 + i) for i in range(50)]
        assert post(ingest, events).status == 201
    assert len(writes) == 1  # 1,000 events, 20 requests, one write (the first; the rest within a minute)
    ledger.flush()
    answer = sources_answer(load_function("AuditSourcesFunction"))
    (billing,) = [s for s in answer["sources"] if s["source"] == "qhb-billing-01"]
    assert billing["eventsLast24h"] == 1_000
    assert billing["lastSeen"] is not None
    assert billing["silent"] is False


def test_the_scheduled_check_announces_an_expected_source_that_never_sends(load_function, stack):
    sqs = boto3.client("sqs")
    events = boto3.client("events")
    queue = sqs.create_queue(QueueName="operator-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="audit", EventPattern=json.dumps({"source": ["dbguard.audit"]}))
    events.put_targets(Rule="audit", Targets=[{"Id": "q", "Arn": arn}])
    check = load_function("AuditSourcesFunction")
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    assert check.invoke(scheduled) == {"sources": 1, "silent": 0}
    table = stack.physical_ids["AuditSourcesTable"]
    boto3.client("dynamodb").update_item(  # a minute and more ago, as the fake clock of the unit tests
        TableName=table,
        Key={"source": {"S": "qhb-never-sends"}},
        UpdateExpression="SET declaredAt = :t",
        ExpressionAttributeValues={":t": {"N": "1000"}},
    )
    assert check.invoke(scheduled) == {"sources": 1, "silent": 1}
    check.invoke(scheduled)
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    (announced,) = [json.loads(message["Body"]) for message in received]
    assert (announced["detail-type"], announced["detail"]["source"]) == (
        "Audit Source Silent",
        "qhb-never-sends",
    )
    assert sources_answer(check)["sources"][0] == {
        "source": "qhb-never-sends", "lastSeen": None, "eventsLast24h": 0, "silent": True,
        "expected": True, "watched": True,
    }  # fmt: skip

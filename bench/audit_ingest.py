"""audit_ingest: per-event handler cost, as a ratio to the bare handler (cold start: bench.cold_start).

Both sides talk to the same stubbed DynamoDB client (requests are serialised and signed, then
answered in memory). The baseline is the bare handler: json.loads, a content hash, TypeSerializer
and one conditional put_item per event; the ratio is dbguard's own overhead on top: validation and
its limits, index attributes, Powertools routing, logging and metrics.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os

import boto3
from boto3.dynamodb.types import TypeSerializer

from bench.harness import (
    FAKE_AWS,
    cold_start,
    per_call_seconds,
    report,
    stub_http,
    template_function,
)
from dbguard_local.apigateway import proxy_event
from dbguard_local.functions import LambdaContext
from dbguard_testkit.samples import body_of, connection_event

CALLS, ROUNDS = 300, 7


def run() -> dict[str, float]:
    spec = template_function("AuditIngestFunction")
    os.environ.update({**spec.environment, **FAKE_AWS, "POWERTOOLS_LOG_LEVEL": "WARNING"})
    module = cold_start(spec)
    stub_http(module.audit.ingest.writer._dynamodb)  # the composition root's AuditStore
    stub_http(module.audit.ingest.sources._dynamodb._made)  # last seen per source: once a minute
    context = LambdaContext(spec, "eu-central-1", "123456789012")
    table = spec.environment["AUDIT_TABLE_NAME"]
    baseline_client = boto3.client("dynamodb")
    stub_http(baseline_client)

    def handler_single() -> None:
        _quietly(module.lambda_handler, _post(body_of(connection_event())), context)

    def baseline_single() -> None:
        _baseline(baseline_client, table, body_of(connection_event()))

    batch = body_of([connection_event(Datetime=1_785_000_000_000 + i) for i in range(100)])

    def handler_batch() -> None:
        _quietly(module.lambda_handler, _post(batch), context)

    def baseline_batch() -> None:
        _baseline(baseline_client, table, batch)

    single, single_base = per_call_seconds(handler_single, CALLS, ROUNDS, baseline_single)
    many, many_base = per_call_seconds(handler_batch, CALLS // 30, ROUNDS, baseline_batch)
    results = {
        "ingest_single_ratio": single / single_base,
        "ingest_batch_per_event_ratio": many / many_base,
    }
    report(
        "audit_ingest (baseline: json.loads, content hash, TypeSerializer, one conditional put_item)",
        [
            ("one event per POST", _versus(single, single_base, "µs")),
            ("100 events per POST, per event", _versus(many / 100, many_base / 100, "µs")),
        ],
    )
    return results


def _versus(measured: float, baseline: float, unit: str) -> str:
    scale = 1e6 if unit == "µs" else 1e3
    return (
        f"{measured * scale:7.0f} {unit} vs {baseline * scale:6.0f} {unit}   ratio {measured / baseline:.2f}"
    )


def _post(body: bytes) -> dict:
    return proxy_event("POST", "/audit/events", resource="/audit/events", body=body, query={"token": ["t"]})


_serializer = TypeSerializer()


def _baseline(client, table: str, body: bytes) -> None:
    """The least a handler can do: parse the JSON and write each event once, keyed by its content."""
    document = json.loads(body)
    for event in document if isinstance(document, list) else [document]:
        raw = json.dumps(event, sort_keys=True, separators=(",", ":"))
        record = {
            "id": hashlib.sha256(raw.encode()).hexdigest()[:32],
            "Datetime": event["Datetime"],
            "raw": raw,
        }
        client.put_item(
            TableName=table,
            Item={name: _serializer.serialize(value) for name, value in record.items()},
            ConditionExpression="attribute_not_exists(id)",
        )


def _quietly(handler, event, context):
    with contextlib.redirect_stdout(io.StringIO()):  # metrics are printed (EMF) on every call
        response = handler(event, context)
    assert response["statusCode"] in (200, 201), response
    return response

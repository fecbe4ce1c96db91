"""audit_ingest: per-event handler cost and cold-start import time, as ratios to minimal baselines.

Both sides talk to the same stubbed DynamoDB client (requests are serialised and signed, then
answered in memory), so the ratio is dbguard's own overhead: validation, canonical JSON and id,
record building, Powertools routing, logging and metrics.
"""

from __future__ import annotations

import contextlib
import io
import json
import os

import boto3

from bench.harness import (
    FAKE_AWS,
    cold_start,
    import_seconds,
    per_call_seconds,
    report,
    stub_http,
    template_function,
)
from dbguard_local.apigateway import proxy_event
from dbguard_local.functions import LambdaContext
from tests.samples import body_of, connection_event

CALLS, ROUNDS, IMPORT_RUNS = 300, 7, 7


def run() -> dict[str, float]:
    spec = template_function("AuditIngestFunction")
    os.environ.update({**spec.environment, **FAKE_AWS, "POWERTOOLS_LOG_LEVEL": "WARNING"})
    module = cold_start(spec)
    stub_http(module.store._dynamodb)
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
    import_app = f"import sys; sys.path.insert(0, {str(spec.code_dir)!r}); import app"
    cold = import_seconds(import_app, spec.environment | FAKE_AWS, IMPORT_RUNS)
    cold_base = import_seconds("import boto3; boto3.client('dynamodb')", FAKE_AWS, IMPORT_RUNS)
    results = {
        "ingest_single_ratio": single / single_base,
        "ingest_batch_per_event_ratio": many / many_base,
        "ingest_cold_start_ratio": cold / cold_base,
    }
    report(
        "audit_ingest (baseline: json.loads + put_item on the same stubbed client)",
        [
            ("one event per POST", _versus(single, single_base, "µs")),
            ("100 events per POST, per event", _versus(many / 100, many_base / 100, "µs")),
            ("cold start vs import boto3 + client", _versus(cold, cold_base, "ms")),
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


def _baseline(client, table: str, body: bytes) -> None:
    """The least a handler can do: parse the JSON and write each event."""
    document = json.loads(body)
    for event in document if isinstance(document, list) else [document]:
        client.put_item(
            TableName=table, Item={"id": {"S": str(event["Datetime"])}, "raw": {"S": json.dumps(event)}}
        )


def _quietly(handler, event, context):
    with contextlib.redirect_stdout(io.StringIO()):  # metrics are printed (EMF) on every call
        response = handler(event, context)
    assert response["statusCode"] in (200, 201), response
    return response

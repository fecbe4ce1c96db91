"""POST /audit/events: qhb_audit events in, each stored exactly once."""

from __future__ import annotations

import time
from http import HTTPStatus

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.audit.ingest import IngestResult, ingest_events
from dbguard.audit.parsing import parse_body
from dbguard.audit.store import AuditStore
from dbguard.http_api import json_response, register_error_handlers, request_body
from dbguard.observability import logger, metrics, tracer
from dbguard.settings import Settings

settings = Settings.from_env("audit_table_name")
store = AuditStore.create(settings.audit_table_name, settings.ingest_retry_after_seconds)
app = APIGatewayRestResolver()
register_error_handlers(app)


@app.post("/audit/events")
def post_events() -> Response:
    parsed = parse_body(request_body(app.current_event), settings.max_request_bytes)
    results = ingest_events(parsed.events, store, time.time_ns() // 1_000_000, settings.audit_retention_days)
    stored = sum(not result.duplicate for result in results)
    metrics.add_metric(name="EventsStored", unit=MetricUnit.Count, value=stored)
    metrics.add_metric(name="EventsDuplicate", unit=MetricUnit.Count, value=len(results) - stored)
    logger.info("audit events accepted", extra={"stored": stored, "ids": [result.id for result in results]})
    status = HTTPStatus.CREATED if stored else HTTPStatus.OK
    if not parsed.is_batch:
        return json_response(status, _result_body(results[0]))
    return json_response(
        status,
        {
            "results": [_result_body(r) for r in results],
            "stored": stored,
            "duplicates": len(results) - stored,
        },
    )


def _result_body(result: IngestResult) -> dict[str, object]:
    return {"id": result.id, "duplicate": result.duplicate}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

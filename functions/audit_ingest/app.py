"""POST /audit/events: qhb_audit events in, each stored exactly once; direct connections announced."""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.audit.ingest import IngestAnswer, IngestBatchAnswer, answer_to, ingest_events
from dbguard.audit.models import MAX_NESTING_DEPTH
from dbguard.audit.parsing import parse_body
from dbguard.composition.audit_ingest import compose
from dbguard.http_api import ERROR_RESPONSES, json_response, register_error_handlers, request_body
from dbguard.observability import logger, metrics, tracer

audit = compose()
app = APIGatewayRestResolver()
register_error_handlers(app)


@app.post(
    "/audit/events",
    summary="Store qhb_audit events exactly once",
    description="One qhb_audit event, or a JSON array of up to 100; the ingest token goes in ?token=.",
    responses={
        200: {"description": "Every event was stored before: nothing written",
              "content": {"application/json": {"model": IngestAnswer | IngestBatchAnswer}}},
        201: {"description": "Stored (for an array: at least one event)",
              "content": {"application/json": {"model": IngestAnswer | IngestBatchAnswer}}},
        413: ERROR_RESPONSES[400] | {"description": "The body, an event or an event's unknown fields "
                                                    "is too large, or the body holds over 100 events"},
        422: ERROR_RESPONSES[400] | {"description": "Valid JSON, but not valid qhb_audit events: a field, "
                                                    f"nesting deeper than {MAX_NESTING_DEPTH}, a number "
                                                    "DynamoDB cannot hold, a repeated key"},
        **ERROR_RESPONSES,
    },
)  # fmt: skip
def post_events() -> Response[Any]:
    parsed = parse_body(request_body(app.current_event), audit.max_request_bytes)
    results = ingest_events(parsed.events, audit.ingest, time.time_ns() // 1_000_000)
    stored = sum(not result.duplicate for result in results)
    metrics.add_metric(name="EventsStored", unit=MetricUnit.Count, value=stored)
    metrics.add_metric(name="EventsDuplicate", unit=MetricUnit.Count, value=len(results) - stored)
    direct = sum(result.direct and not result.duplicate for result in results)
    metrics.add_metric(name="DirectConnections", unit=MetricUnit.Count, value=direct)
    logger.info("audit events accepted", extra={"stored": stored, "ids": [result.id for result in results]})
    status = HTTPStatus.CREATED if stored else HTTPStatus.OK
    return json_response(status, answer_to(results, parsed.is_batch).model_dump())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

"""POST /audit/events: qhb_audit events in, each stored exactly once; direct connections announced.

Its documentation (summary, answers, body) is in scripts/generate_openapi.py."""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.audit.ingest import answer_to, ingest_events
from dbguard.audit.parsing import parse_body
from dbguard.composition.audit_ingest import compose
from dbguard.http_api import ProxyAnswer, ProxyEvent, answer_route, json_response, request_body
from dbguard.observability import logger, metrics, tracer

audit = compose()


def post_events(event: ProxyEvent) -> ProxyAnswer:
    parsed = parse_body(request_body(event), audit.max_request_bytes)
    results = ingest_events(parsed.events, audit.ingest, time.time_ns() // 1_000_000)
    stored = sum(not result.duplicate for result in results)
    metrics.add_metric(name="EventsStored", unit=MetricUnit.Count, value=stored)
    metrics.add_metric(name="EventsDuplicate", unit=MetricUnit.Count, value=len(results) - stored)
    direct = sum(result.direct and not result.duplicate for result in results)
    metrics.add_metric(name="DirectConnections", unit=MetricUnit.Count, value=direct)
    logger.info("audit events accepted", extra={"stored": stored, "ids": [result.id for result in results]})
    status = HTTPStatus.CREATED if stored else HTTPStatus.OK
    return json_response(status, answer_to(results, parsed.is_batch))


ROUTES = {("POST", "/audit/events"): post_events}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> ProxyAnswer:
    return answer_route(event, ROUTES)

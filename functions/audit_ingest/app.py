"""POST /audit/events: qhb_audit events in, each stored exactly once; direct connections announced.

Its documentation (summary, answers, body) is in scripts/generate_openapi.py."""

from __future__ import annotations

from dbguard.init_phase import init_finished

import time
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.audit.parsing import parse_body
from dbguard.composition.audit_ingest import compose
from dbguard.http_api import ProxyAnswer, ProxyEvent, answer_route, json_response, request_body
from dbguard.metric_catalogue import DIRECT_CONNECTIONS, EVENTS_DUPLICATE, EVENTS_STORED
from dbguard.observability import emit, logger, metrics, tracer

audit = compose()
init_finished()


def post_events(event: ProxyEvent) -> ProxyAnswer:
    parsed = parse_body(request_body(event), audit.max_request_bytes)
    outcome = audit.ingest.accept(parsed, time.time_ns() // 1_000_000)
    emit(EVENTS_STORED, outcome.stored)
    emit(EVENTS_DUPLICATE, len(outcome.results) - outcome.stored)
    emit(DIRECT_CONNECTIONS, outcome.direct_stored)
    ids = [result.id for result in outcome.results]
    logger.info("audit events accepted", extra={"stored": outcome.stored, "ids": ids})
    status = HTTPStatus.CREATED if outcome.stored else HTTPStatus.OK
    return json_response(status, outcome.answer())


ROUTES = {("POST", "/audit/events"): post_events}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> ProxyAnswer:
    return answer_route(event, ROUTES)

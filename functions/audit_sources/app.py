"""Audit sources: the scheduled check (an event when a QHB server falls silent, another when it
resumes) and GET /audit/sources for operators (IAM-authorised like the audit query).

Its documentation (summary, answers) is in scripts/generate_openapi.py."""

from __future__ import annotations

from dbguard.init_phase import init_finished

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.composition.audit_sources import compose
from dbguard.http_api import ProxyAnswer, ProxyEvent, answer_route, json_response
from dbguard.observability import logger, metrics, tracer

sources = compose()
init_finished()


def list_sources(event: ProxyEvent) -> ProxyAnswer:
    answer = sources.answer()
    logger.info("audit sources answered", extra={"sources": len(answer.sources)})
    return json_response(HTTPStatus.OK, answer.model_dump(mode="json", by_alias=True))


ROUTES = {("GET", "/audit/sources"): list_sources}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    if "httpMethod" in event:  # API Gateway; otherwise the schedule's event
        return answer_route(event, ROUTES)
    statuses = sources.check()
    return {"sources": len(statuses), "silent": sum(status.silent for status in statuses)}

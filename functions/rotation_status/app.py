"""GET /rotation/databases: every active database's rotation status, most urgent first - for
operators, IAM-authorised like the audit query (docs/rotation.md, "Rotation status").

Its documentation (summary, parameters, answers) is in scripts/generate_openapi.py."""

from __future__ import annotations

from dbguard.init_phase import init_finished

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.composition.rotation_status import compose
from dbguard.http_api import ProxyAnswer, ProxyEvent, answer_route, json_response
from dbguard.observability import logger, metrics, tracer
from dbguard.rotation.status import StatusQuery

status = compose()
init_finished()


def list_databases(event: ProxyEvent) -> ProxyAnswer:
    query = StatusQuery.of_query_string(event.get("multiValueQueryStringParameters") or {})
    answer = status.report(query)
    logger.info("rotation status answered", extra={"total": answer.total, "counts": answer.counts})
    return json_response(HTTPStatus.OK, answer.model_dump(mode="json", by_alias=True))


ROUTES = {("GET", "/rotation/databases"): list_databases}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> ProxyAnswer:
    return answer_route(event, ROUTES)

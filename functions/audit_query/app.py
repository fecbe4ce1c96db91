"""GET /audit/events and GET /audit/events/{id}: the auditors' read side (IAM-authorised).

Their documentation (summaries, parameters, answers) is in scripts/generate_openapi.py."""

from __future__ import annotations

from dbguard.init_phase import init_finished

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.audit.filters import EventFilters
from dbguard.audit.stored import EventPage
from dbguard.composition.audit_query import compose
from dbguard.http_api import (
    ProxyAnswer,
    ProxyEvent,
    answer_route,
    error_response,
    json_response,
    proxy_answer,
    request_header,
)
from dbguard.metric_catalogue import QUERY_EVENTS_RETURNED, QUERY_INDEX_ITEMS_READ
from dbguard.observability import emit, logger, metrics, tracer

search = compose()
init_finished()


def list_events(event: ProxyEvent) -> ProxyAnswer:
    result = search.search(EventFilters.of_query_string(event.get("multiValueQueryStringParameters") or {}))
    emit(QUERY_EVENTS_RETURNED, len(result.page.events))
    emit(QUERY_INDEX_ITEMS_READ, result.index_items_read)
    if "text/csv" in request_header(event, "Accept").lower():
        return _as_csv(result.page)
    return json_response(HTTPStatus.OK, result.page.model_dump(by_alias=True))


def _as_csv(page: EventPage) -> ProxyAnswer:
    from dbguard.audit.csv_export import to_csv  # here: few requests ask for CSV (cold start)

    headers = {"X-Next-Cursor": page.next_cursor} if page.next_cursor else {}
    incomplete = sum(event.notice is not None for event in page.events)
    if incomplete:  # CSV has no room for the JSON answer's notice: say so here
        headers["X-Incomplete-Events"] = str(incomplete)
    csv_text = to_csv((event.id, event.event) for event in page.events)
    return proxy_answer(HTTPStatus.OK, "text/csv; charset=utf-8", csv_text, headers)


def get_event(event: ProxyEvent) -> ProxyAnswer:
    event_id = (event.get("pathParameters") or {}).get("id", "")
    stored = search.get(event_id)
    if stored is None:
        return error_response(HTTPStatus.NOT_FOUND, f"no audit event {event_id}")
    return json_response(HTTPStatus.OK, stored.model_dump(by_alias=True))


ROUTES = {("GET", "/audit/events"): list_events, ("GET", "/audit/events/{id}"): get_event}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> ProxyAnswer:
    return answer_route(event, ROUTES)

"""GET /audit/events and GET /audit/events/{id}: the auditors' read side (IAM-authorised)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.audit.filters import EventFilters
from dbguard.audit.keys import EVENT_ID_PATTERN
from dbguard.audit.query import EventPage, StoredEvent
from dbguard.composition.audit_query import compose
from dbguard.http_api import (
    ERROR_RESPONSES,
    error_response,
    json_response,
    query_parameters,
    register_error_handlers,
)
from dbguard.observability import logger, metrics, tracer

search = compose()
# No Powertools validation layer (enable_validation): EventFilters validates the query string and
# describes it to the OpenAPI document, the service checks the id, so each rule is written once and
# the layer's middleware and dependant models stay off the cold start.
app = APIGatewayRestResolver()
register_error_handlers(app)


@app.get(
    "/audit/events",
    summary="Search audit events, newest first",
    description="A time range (default: the last 24 hours) plus any filters; `Accept: text/csv` for CSV.",
    responses={
        200: {
            "description": "A page of events; follow nextCursor for the next one.",
            "content": {"application/json": {"model": EventPage}, "text/csv": {"schema": {"type": "string"}}},
        },
        **ERROR_RESPONSES,
    },
    openapi_extensions={"parameters": query_parameters(EventFilters)},
)
def list_events() -> Response[Any]:
    event = app.current_event
    result = search.search(EventFilters.of_query_string(event.multi_value_query_string_parameters or {}))
    metrics.add_metric(name="QueryEventsReturned", unit=MetricUnit.Count, value=len(result.page.events))
    metrics.add_metric(name="QueryIndexItemsRead", unit=MetricUnit.Count, value=result.index_items_read)
    if "text/csv" in (event.headers or {}).get("accept", "").lower():
        return _as_csv(result.page)
    return json_response(HTTPStatus.OK, result.page.model_dump(by_alias=True))


def _as_csv(page: EventPage) -> Response[Any]:
    from dbguard.audit.csv_export import to_csv  # here: few requests ask for CSV (cold start)

    headers = {"X-Next-Cursor": page.next_cursor} if page.next_cursor else {}
    incomplete = sum(event.notice is not None for event in page.events)
    if incomplete:  # CSV has no room for the JSON answer's notice: say so here
        headers["X-Incomplete-Events"] = str(incomplete)
    csv_text = to_csv(event.event for event in page.events)
    return Response(HTTPStatus.OK, "text/csv; charset=utf-8", csv_text, headers=headers or None)


@app.get(
    "/audit/events/<id>",
    summary="One audit event by its id",
    responses={200: {"description": "The event", "content": {"application/json": {"model": StoredEvent}}},
               **ERROR_RESPONSES},
)  # fmt: skip
def get_event(
    id: Annotated[str, Path(pattern=EVENT_ID_PATTERN, description="32 hex digits")],
) -> Response[Any]:
    stored = search.get(id)
    if stored is None:
        return error_response(HTTPStatus.NOT_FOUND, f"no audit event {id}")
    return json_response(HTTPStatus.OK, stored.model_dump(by_alias=True))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

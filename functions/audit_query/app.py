"""GET /audit/events and GET /audit/events/{id}: the auditors' read side (IAM-authorised)."""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import ValidationError

from dbguard.adapters import aws
from dbguard.adapters.audit_reader import AuditReader
from dbguard.adapters.dynamodb import RETRYABLE_CODES, error_code
from dbguard.audit.cursor import CursorCodec
from dbguard.audit.filters import DEFAULT_LIMIT, MAX_LIMIT, EventFilters
from dbguard.audit.query import AuditSearch, EventPage, StoredEvent
from dbguard.composition.settings import Settings
from dbguard.errors import InvalidQuery, Problem, StorageUnavailable
from dbguard.http_api import (
    ERROR_RESPONSES,
    error_response,
    json_response,
    register_error_handlers,
    storage_unavailable,
)
from dbguard.observability import logger, metrics, tracer
from dbguard.validation import field_path, problems_from

settings = Settings.from_env("audit_table_name", "query_cursor_secret_arn")
app = APIGatewayRestResolver(enable_validation=True)
register_error_handlers(app)


@cache  # read once per container: Powertools' parameters utility would cost every cold start ~80 ms
def _codec() -> CursorCodec:
    secret = aws.client("secretsmanager").get_secret_value(SecretId=settings.query_cursor_secret_arn)
    return CursorCodec(secret["SecretString"].encode())


search = AuditSearch(AuditReader.create(settings.audit_table_name), _codec)
ALLOWED_PARAMETERS = frozenset(EventFilters.model_json_schema(by_alias=True)["properties"])
Text = Annotated[str | None, Query(max_length=256)]


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
)
def list_events(
    from_: Annotated[str | None, Query(alias="from", max_length=40, description="ISO 8601 or ms")] = None,
    to: Annotated[str | None, Query(max_length=40, description="ISO 8601 or ms; default now")] = None,
    userLogin: Text = None,
    name: Text = None,
    serviceName: Text = None,
    database: Text = None,
    userNode: Text = None,
    direct: Annotated[
        Literal["true"] | None,
        Query(description="true: only connection attempts that bypassed the JumpServer DB proxy"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
):
    result = search.search(_filters())
    metrics.add_metric(name="QueryEventsReturned", unit=MetricUnit.Count, value=len(result.page.events))
    metrics.add_metric(name="QueryIndexItemsRead", unit=MetricUnit.Count, value=result.index_items_read)
    if "text/csv" in (app.current_event.headers or {}).get("accept", "").lower():
        from dbguard.audit.csv_export import to_csv  # here: few requests ask for CSV (cold start)

        csv_text = to_csv(event.event for event in result.page.events)
        headers = {"X-Next-Cursor": result.page.next_cursor} if result.page.next_cursor else {}
        incomplete = sum(event.notice is not None for event in result.page.events)
        if incomplete:  # CSV has no room for the JSON answer's notice: say so here
            headers["X-Incomplete-Events"] = str(incomplete)
        return Response(HTTPStatus.OK, "text/csv; charset=utf-8", csv_text, headers=headers or None)
    return json_response(HTTPStatus.OK, result.page.model_dump(by_alias=True))


@app.get(
    "/audit/events/<id>",
    summary="One audit event by its id",
    responses={200: {"description": "The event", "content": {"application/json": {"model": StoredEvent}}},
               **ERROR_RESPONSES},
)  # fmt: skip
def get_event(
    id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="32 hex digits")],
):
    stored = search.get(id)
    if stored is None:
        return error_response(HTTPStatus.NOT_FOUND, f"no audit event {id}")
    return json_response(HTTPStatus.OK, stored.model_dump(by_alias=True))


def _filters() -> EventFilters:
    event = app.current_event
    unknown = sorted(set(event.query_string_parameters or {}) - ALLOWED_PARAMETERS)
    if unknown:
        raise InvalidQuery(
            f"unknown query parameter(s): {', '.join(unknown)}",
            [Problem(name, f"not a filter; use {', '.join(sorted(ALLOWED_PARAMETERS))}") for name in unknown],
        )
    repeated = sorted(k for k, v in (event.multi_value_query_string_parameters or {}).items() if len(v) > 1)
    if repeated:
        raise InvalidQuery(f"give each filter once: {', '.join(repeated)}")
    try:
        return EventFilters.model_validate(event.query_string_parameters or {})
    except ValidationError as error:
        problems = problems_from(error)
        raise InvalidQuery("; ".join(f"{p.field}: {p.message}" for p in problems), problems) from None


@app.exception_handler(ClientError)
def _storage_error(error: ClientError) -> Response:
    if error_code(error) not in RETRYABLE_CODES:
        raise error
    retry_after = settings.ingest_retry_after_seconds
    return storage_unavailable(
        StorageUnavailable(f"DynamoDB refused the read ({error_code(error)})", retry_after)
    )


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response:
    problems = [Problem(field_path(tuple(item["loc"][1:])), item["msg"]) for item in error.errors()]
    return error_response(
        HTTPStatus.BAD_REQUEST, "; ".join(f"{p.field}: {p.message}" for p in problems), problems
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

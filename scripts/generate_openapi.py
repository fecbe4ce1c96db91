"""Writes docs/openapi.json: the API (audit ingest and query, rotation status) as a Powertools
resolver built here, only for the document, describes it (`make openapi`); tests fail when the
committed file is stale.

The functions answer API Gateway's proxy events themselves (dbguard.http_api: no resolver on
their cold start), so the routes are declared here with the models the functions answer with and
the query model they validate with, and schemathesis drives the real functions from this document
(tests/integration/functions/test_audit_api_schema.py): a route, parameter or answer described here
that the functions do not give fails there. The ingest body is read raw (its size and shape errors
are answered by dbguard itself), so its request body is added from the qhb_audit event model.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT / "layers" / "common")]

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response  # noqa: E402
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParameter  # noqa: E402

from dbguard.audit.answers import IngestAnswer, IngestBatchAnswer  # noqa: E402
from dbguard.audit.filters import EventFilters  # noqa: E402
from dbguard.audit.keys import EVENT_ID_PATTERN  # noqa: E402
from dbguard.audit.limits import MAX_EVENTS_PER_REQUEST, MAX_NESTING_DEPTH  # noqa: E402
from dbguard.audit.models import AuditEvent  # noqa: E402
from dbguard.audit.sources import SourcesAnswer  # noqa: E402
from dbguard.audit.stored import EventPage, StoredEvent  # noqa: E402
from dbguard.http_openapi import CSV_HEADERS, ERROR_RESPONSES, INGEST_ERRORS, query_parameters  # noqa: E402
from dbguard.rotation.status import RotationStatusAnswer, StatusQuery  # noqa: E402

TARGET = REPO_ROOT / "docs" / "openapi.json"
SECURITY_SCHEMES = {
    "sigv4": {
        "type": "apiKey", "name": "Authorization", "in": "header",
        "description": "AWS Signature Version 4 for service execute-api (IAM)",
        "x-amazon-apigateway-authtype": "awsSigv4",
    },
    "ingestToken": {
        "type": "apiKey", "name": "token", "in": "query", "description": "a token of IngestTokenSecretArn",
    },
}  # fmt: skip


def audit_api() -> APIGatewayRestResolver:
    """The routes of audit_ingest and audit_query; the functions' ROUTES answer them, not these."""
    app = APIGatewayRestResolver()

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
            422: ERROR_RESPONSES[400] | {"description": "Valid JSON, but not qhb_audit events: neither "
                                                        "an event nor an array of them, an empty array, a "
                                                        f"field, nesting deeper than {MAX_NESTING_DEPTH}, a "
                                                        "number DynamoDB cannot hold, a repeated key"},
            **ERROR_RESPONSES,
            **INGEST_ERRORS,
        },
    )  # fmt: skip
    def post_events() -> Response[Any]: ...

    @app.get(
        "/audit/events",
        summary="Search audit events, newest first",
        description="A time range (default: the last 24 hours) plus any filters; `Accept: text/csv` for CSV.",
        responses={
            200: {
                "description": "A page of events; follow nextCursor (CSV: X-Next-Cursor) for the next one.",
                "content": {
                    "application/json": {"model": EventPage},
                    "text/csv": {"schema": {"type": "string"}},
                },
                "headers": CSV_HEADERS,
            },
            **ERROR_RESPONSES,
        },
        openapi_extensions={"parameters": query_parameters(EventFilters)},
    )
    def list_events() -> Response[Any]: ...

    @app.get(
        "/audit/events/<id>",
        summary="One audit event by its id",
        responses={200: {"description": "The event", "content": {"application/json": {"model": StoredEvent}}},
                   **ERROR_RESPONSES},
    )  # fmt: skip
    def get_event(
        id: Annotated[str, PathParameter(pattern=EVENT_ID_PATTERN, description="32 hex digits")],
    ) -> Response[Any]: ...

    @app.get(
        "/rotation/databases",
        summary="Every active database's rotation status, most urgent first",
        description="Token expiry, next rotation, last error and permission state, from the registry "
        "(docs/rotation.md, Rotation status): expired, no token, failing, overdue, due, then ok; "
        "within each, the soonest expiry first.",
        responses={
            200: {"description": "The databases",
                  "content": {"application/json": {"model": RotationStatusAnswer}}},
            400: ERROR_RESPONSES[400],
            403: ERROR_RESPONSES[403],
            404: ERROR_RESPONSES[404],
        },
        openapi_extensions={"parameters": query_parameters(StatusQuery)},
    )  # fmt: skip
    def list_databases() -> Response[Any]: ...

    @app.get(
        "/audit/sources",
        summary="Every audit source: last seen, events in the last 24 hours, silent or not",
        description="The QHB servers that send events (REST serviceName, or the folder their CSV files "
        "arrive in) and those declared in ExpectedSources, silent ones first (docs/operations.md, "
        "Audit Source Silent).",
        responses={
            200: {"description": "The sources", "content": {"application/json": {"model": SourcesAnswer}}},
            400: ERROR_RESPONSES[400],
            404: ERROR_RESPONSES[404],
        },
    )
    def list_sources() -> Response[Any]: ...

    return app


# The stage is part of every URL (template.yaml: AuditApi StageName); the paths below are under it.
SERVERS = [
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com/{stage}",
        "description": "a deployment (stack outputs IngestUrl, QueryUrl)",
        "variables": {
            "apiId": {"default": "abcdef1234", "description": "the REST API's id"},
            "region": {"default": "eu-central-1"},
            "stage": {"default": "v1", "description": "the StageName parameter"},
        },
    },
    {"url": "http://127.0.0.1:3000/v1", "description": "make run (its port: .dbguard-local/endpoints.json)"},
]
IAM_ROUTES = ("/audit/events", "/audit/events/{id}", "/rotation/databases", "/audit/sources")


def openapi() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        audit_api().get_openapi_json_schema(
            title="dbguard API",
            version="1",
            description="qhb_audit ingest (token), the auditors' query (IAM, docs/audit-query.md) and "
            "the operators' rotation status and audit sources (IAM, docs/rotation.md, docs/operations.md).",
        )
    )
    document["servers"] = SERVERS
    _describe_ingest_body(document)
    document["components"]["securitySchemes"] = SECURITY_SCHEMES
    document["paths"]["/audit/events"]["post"]["security"] = [{"ingestToken": []}]
    for operation in IAM_ROUTES:
        document["paths"][operation]["get"]["security"] = [{"sigv4": []}]
        # the reads map request validation errors to 400 (ErrorBody); Powertools' default 422 never occurs
        document["paths"][operation]["get"]["responses"].pop("422", None)
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        document["components"]["schemas"].pop(unused, None)
    return document


def _describe_ingest_body(document: dict[str, Any]) -> None:
    event = AuditEvent.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    document["components"]["schemas"].update(event.pop("$defs", {}))
    document["components"]["schemas"]["AuditEvent"] = event
    reference = {"$ref": "#/components/schemas/AuditEvent"}
    array = {"type": "array", "items": reference, "minItems": 1, "maxItems": MAX_EVENTS_PER_REQUEST}
    document["paths"]["/audit/events"]["post"]["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"oneOf": [reference, array]}}},
    }


def main() -> None:
    TARGET.write_text(
        json.dumps(openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()

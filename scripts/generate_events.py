"""Writes events/: a realistic sample event for every function and route (`make events`).

The events come from the same builders the local gateway uses, with fixed ids and times so the
files only change when the shapes do. tests/integration/functions/test_sample_events.py replays them all.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "layers" / "common")]

from dbguard_local.apigateway import authorizer_event, proxy_event  # noqa: E402
from dbguard_testkit.samples import (  # noqa: E402
    body_of,
    cmdb_change,
    connection_event,
    custom_resource_request,
    ddl_event,
    direct_connection_event,
    eventbridge_event,
    rotation_step,
    scheduled_event,
    sqs_event,
)

EVENTS = REPO_ROOT / "events"
REGION = "eu-central-1"
CSV_SAMPLE = Path(__file__).resolve().parents[1] / "events" / "samples" / "qhb-audit-day.csv"
SAMPLE_TOKEN = "sample-ingest-token-replace-with-one-from-the-secret"
FIXED_CONTEXT = {
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "extendedRequestId": "Jk0fGEXAMPLEkAA=",
    "requestTime": "24/Nov/2026:10:00:00 +0000",
    "requestTimeEpoch": 1795514400000,
}


def ingest_request(body: bytes | None, token: str | None = SAMPLE_TOKEN) -> dict[str, Any]:
    event = proxy_event(
        "POST",
        "/audit/events",
        resource="/audit/events",
        body=body,
        source_ip="10.1.2.3",
        headers={"Content-Type": "application/json", "User-Agent": "qhb_audit", "Host": "api.example.com"},
        query={"token": [token]} if token is not None else None,
        authorizer={"principalId": "qhb-ingest", "tokenSlot": 0},
    )
    event["requestContext"].update(FIXED_CONTEXT)
    return event


SAMPLE_SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:dbguard/db/billing-qhb-01-Xy12Zw"
SAMPLE_VERSION_ID = "4d1c9b2e-8f6a-4c3d-9e7b-1a2b3c4d5e6f"


def query_request(
    path: str,
    query: dict[str, str] | None = None,
    accept: str = "application/json",
    resource: str | None = None,
) -> dict[str, Any]:
    """GET on the IAM-protected routes, as API Gateway passes it after checking SigV4."""
    resource = resource or ("/audit/events/{id}" if path.count("/") == 3 else "/audit/events")
    event = proxy_event(
        "GET",
        path,
        resource=resource,
        source_ip="10.20.0.7",
        headers={"Accept": accept, "Host": "api.example.com"},
        query={name: [value] for name, value in (query or {}).items()} or None,
        path_parameters={"id": path.rsplit("/", 1)[1]} if resource.endswith("{id}") else None,
    )
    event["requestContext"].update(FIXED_CONTEXT)
    event["requestContext"]["identity"].update(
        {
            "accessKey": "ASIAEXAMPLEAUDITOR01",
            "userArn": "arn:aws:sts::123456789012:assumed-role/Auditor/alice",
        }
    )
    return event


def query_samples() -> dict[str, Any]:
    week = {"from": "2026-07-24T00:00:00Z", "to": "2026-07-31T00:00:00Z"}
    return {
        "audit_query/list-by-user.json": query_request("/audit/events", {**week, "userLogin": "dba_ivanov"}),
        "audit_query/list-drop-table-csv.json": query_request(
            "/audit/events", {**week, "name": "DROP TABLE"}, accept="text/csv"
        ),
        "audit_query/get-one.json": query_request("/audit/events/0123456789abcdef0123456789abcdef"),
        "audit_query/bad-inverted-range.json": query_request(
            "/audit/events", {"from": "2026-07-31T00:00:00Z", "to": "2026-07-24T00:00:00Z"}
        ),
        "audit_query/bad-unknown-filter.json": query_request("/audit/events", {"user": "dba_ivanov"}),
        "audit_query/list-direct-csv.json": query_request(
            "/audit/events", {**week, "direct": "true"}, accept="text/csv"
        ),
    }


def status_samples() -> dict[str, Any]:
    route = "/rotation/databases"
    return {
        "rotation_status/list.json": query_request(route, resource=route),
        "rotation_status/list-most-urgent-10.json": query_request(route, {"limit": "10"}, resource=route),
        "rotation_status/bad-unknown-parameter.json": query_request(
            route, {"state": "failing"}, resource=route
        ),
    }


def sources_samples() -> dict[str, Any]:
    route = "/audit/sources"
    return {
        "audit_sources/list.json": query_request(route, resource=route),
        "audit_sources/scheduled-check.json": scheduled_event(),
    }


CSV_SAMPLE_KEY = "qhb-audit/qhb-billing-01/qhb-audit-day.csv"  # events/samples/qhb-audit-day.csv, uploaded
CSV_BUCKET = "dbguard-local-audit-csv-123456789012-eu-central-1"  # the local stack's (make run)


def csv_import_samples() -> dict[str, Any]:
    """What S3 sends the queue when a shipper puts the sample day (an S3 event notification)."""
    notification = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-12-07T00:05:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": CSV_BUCKET, "arn": f"arn:aws:s3:::{CSV_BUCKET}"},
                    "object": {"key": CSV_SAMPLE_KEY, "size": CSV_SAMPLE.stat().st_size, "versionId": None},
                },
            }
        ]
    }
    return {"audit_csv_import/object-created.json": sqs_event(json.dumps(notification))}


def cmdb_batch(*details: Any) -> dict[str, Any]:
    return sqs_event(*(json.dumps(eventbridge_event(detail)) for detail in details))


def cmdb_samples() -> dict[str, Any]:
    upsert, moved = cmdb_change(version=17), cmdb_change(version=18, host="10.1.2.4", port=5433)
    return {
        "samples/cmdb-upsert.json": upsert,
        "samples/cmdb-update-address.json": moved,
        "samples/cmdb-delete.json": cmdb_change("delete", 19),
        "cmdb_sync/upsert.json": cmdb_batch(upsert),
        "cmdb_sync/update-address.json": cmdb_batch(moved),
        "cmdb_sync/delete.json": cmdb_batch(cmdb_change("delete", 19)),
        "cmdb_sync/replayed-and-stale.json": cmdb_batch(upsert, moved, upsert),
        "cmdb_sync/invalid-in-batch.json": sqs_event("not json", json.dumps(eventbridge_event(upsert))),
    }


def rotation_samples() -> dict[str, Any]:
    steps = {
        f"token_rotation/secretsmanager-{step}.json": rotation_step(
            step, SAMPLE_SECRET_ARN, SAMPLE_VERSION_ID
        )
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret")
    }
    response_url = "https://cloudformation-custom-resource-response-eucentral1.s3.amazonaws.com/presigned"
    check = custom_resource_request(
        "Create",
        response_url,
        RotationSchedule="rate(1 hour)",
        RotationWindowSeconds="604800",
        JumpServerTokenLifetimeSeconds="2592000",
        ConsumerCacheSeconds="300",
        RequireDbProxy="warn",
        JumpServerUrl="https://jumpserver.example.com",
        EngineMap="{}",
    )
    return {
        "token_rotation/scheduled.json": scheduled_event(),
        "token_rotation/on-demand-named.json": {"rotate": ["billing-qhb-01"]},
        "token_rotation/on-demand-all.json": {"rotate": "all"},
        "token_rotation/on-demand-forced.json": {"rotate": ["billing-qhb-01"], "force": True},
        "token_rotation/settings-check.json": check,
        **steps,
    }


def samples() -> dict[str, Any]:
    base64_event = ingest_request(None)
    base64_event.update(body=base64.b64encode(body_of(ddl_event())).decode(), isBase64Encoded=True)
    wrong_types = connection_event(Datetime="2026-11-24T10:00:00Z", tags="qhb", params=[["database", "x"]])
    missing = {"name": "connection attempt", "Datetime": 1_785_000_000_000}
    many = [connection_event(Datetime=1_785_000_000_000 + i) for i in range(101)]
    return {
        "samples/qhb-connection-event.json": connection_event(),
        "samples/qhb-ddl-event.json": ddl_event(),
        "samples/qhb-direct-connection-event.json": direct_connection_event(),
        "audit_ingest/post-single-event.json": ingest_request(body_of(connection_event())),
        "audit_ingest/post-event-array.json": ingest_request(body_of([connection_event(), ddl_event()])),
        "audit_ingest/post-direct-connection.json": ingest_request(body_of(direct_connection_event())),
        "audit_ingest/post-array-with-duplicate.json": ingest_request(body_of([ddl_event(), ddl_event()])),
        "audit_ingest/post-base64-body.json": base64_event,
        "audit_ingest/post-empty-body.json": ingest_request(b""),
        "audit_ingest/post-not-json.json": ingest_request(b"DROP TABLE invoices_2019"),
        "audit_ingest/post-wrong-types.json": ingest_request(body_of(wrong_types)),
        "audit_ingest/post-missing-fields.json": ingest_request(body_of(missing)),
        "audit_ingest/post-too-many-events.json": ingest_request(body_of(many)),
        "audit_authorizer/request-valid-token.json": authorizer_event(ingest_request(None), REGION),
        "audit_authorizer/request-wrong-token.json": authorizer_event(ingest_request(None, "x" * 48), REGION),
        "audit_authorizer/request-missing-token.json": authorizer_event(
            ingest_request(None, token=None), REGION
        ),
        **query_samples(),
        **status_samples(),
        **sources_samples(),
        **csv_import_samples(),
        **cmdb_samples(),
        **rotation_samples(),
        "audit_digest/scheduled.json": scheduled_event(),  # digests every closed hour not yet digested
    }


def main() -> None:
    for relative, document in samples().items():
        path = EVENTS / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Realistic qhb_audit events (shapes from the qhb_audit manual) for tests and benchmarks."""

from __future__ import annotations

import json
import uuid
from typing import Any

SECRET_IN_EVENT = "Pa55-in-an-audit-param-9f3c"


def connection_event(**overrides: Any) -> dict[str, Any]:
    event = {
        "tags": ["qhb", "connection"],
        "Datetime": 1_785_000_000_000,
        "serviceName": "qhb-billing-01",
        "serviceVersion": "1.5.2",
        "name": "connection attempt",
        "params": [
            {"Name": "database", "Value": "billing"},
            {"Name": "remote_host", "Value": "10.1.2.50"},
            {"Name": "remote_port", "Value": "51544"},
            {"Name": "success", "Value": "true"},
        ],
        "sessionID": "65f1c0de.2f1a",
        "userLogin": "app_billing",
        "userName": "Billing application",
        "userNode": "10.1.2.50",
    }
    event.update(overrides)
    return event


# what the announcement of direct_connection_event() carries besides its id
DIRECT_CONNECTION_DETAIL = {
    "database": "billing",
    "userLogin": "report_job",
    "userNode": "10.7.31.12",
    "Datetime": 1_785_000_050_000,
    "succeeded": True,
    "serviceName": "qhb-billing-01",
    "name": "connection attempt",
}


def direct_connection_event(**overrides: Any) -> dict[str, Any]:
    """A batch job logging in with a fixed account from its own host, around the JumpServer proxy
    (whose address, in these samples, is connection_event's 10.1.2.50)."""
    event = connection_event(
        Datetime=1_785_000_050_000,
        params=[
            {"Name": "database", "Value": "billing"},
            {"Name": "remote_host", "Value": "10.7.31.12"},
            {"Name": "remote_port", "Value": "40212"},
            {"Name": "success", "Value": "true"},
        ],
        sessionID="65f1c1aa.3b02",
        userLogin="report_job",
        userName=None,
        userNode="10.7.31.12",
    )
    event.update(overrides)
    return event


def ddl_event(**overrides: Any) -> dict[str, Any]:
    event = {
        "tags": ["qhb", "ddl"],
        "Datetime": 1_785_000_100_000,
        "serviceName": "qhb-billing-01",
        "serviceVersion": "1.5.2",
        "name": "DROP TABLE",
        "params": [
            {"Name": "table_name", "Value": "invoices_2019"},
            {"Name": "database", "Value": "billing"},
        ],
        "userLogin": "dba_ivanov",
        "userName": "Иван Иванов",
    }
    event.update(overrides)
    return event


def body_of(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- CMDB change events
ACCOUNT_ID = "123456789012"
REGION = "eu-central-1"
CMDB_DATABASE_PASSWORD = "cmdb-Db-Pa55-7e21c"  # the value tests look for in captured output


def credentials_secret_arn(name: str) -> str:
    """A partial ARN (no random suffix): Secrets Manager resolves it by name."""
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}"


def cmdb_instance(**overrides: Any) -> dict[str, Any]:
    instance = {
        "id": "cmdb-4711",
        "name": "billing-qhb-01",
        "engine": "qhb",
        "host": "10.1.2.3",
        "port": 5432,
        "database": "billing",
        "environment": "prod",
        "labels": {"team": "billing"},
        "credentialsSecretArn": credentials_secret_arn("cmdb/billing-qhb-01"),
    }
    instance.update(overrides)
    return {key: value for key, value in instance.items() if value is not None}


def cmdb_change(action: str = "upsert", version: int = 1, **instance: Any) -> dict[str, Any]:
    """A CMDB change event's `detail`; a delete carries only the instance id unless told otherwise."""
    described = cmdb_instance(**instance) if action == "upsert" else {"id": instance.get("id", "cmdb-4711")}
    return {
        "action": action,
        "version": version,
        "changedAt": f"2026-11-20T10:{version % 60:02d}:00Z",
        "instance": described,
    }


def eventbridge_event(detail: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    event = {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(detail, sort_keys=True))),
        "detail-type": "Database Instance Changed",
        "source": "cmdb",
        "account": ACCOUNT_ID,
        "time": "2026-11-20T10:00:01Z",
        "region": REGION,
        "resources": [],
        "detail": detail,
    }
    event.update(overrides)
    return event


def sqs_event(*bodies: str) -> dict[str, Any]:
    """What the SQS event source mapping hands cmdb_sync: one record per message body."""
    return {
        "Records": [
            {
                "messageId": f"059f36b4-87a3-44ab-83d2-6619725{index:05d}",
                "receiptHandle": f"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795514400000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1795514400001",
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:dbguard-CmdbQueue",
                "awsRegion": REGION,
            }
            for index, body in enumerate(bodies)
        ]
    }


# --------------------------------------------------------------------------- token rotation
def scheduled_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": "2026-11-24T10:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/dbguard-TokenRotationSchedule"],
        "detail": {},
    }


def rotation_step(step: str, secret_id: str, version_id: str) -> dict[str, Any]:
    return {"Step": step, "SecretId": secret_id, "ClientRequestToken": version_id}


def custom_resource_request(request_type: str, response_url: str, **properties: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:dbguard-TokenRotationFunction",
        "ResponseURL": response_url,
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/dbguard-prod/5b1c0e30-8a2c-11ef",
        "RequestId": "d8a3c0d2-1f6e-4a3b-9f0e-2b7b1c9a0e11",
        "LogicalResourceId": "RotationSettingsCheck",
        "ResourceType": "Custom::RotationSettings",
        "ResourceProperties": properties,
    }

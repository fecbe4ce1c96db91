"""Realistic qhb_audit events (shapes from the qhb_audit manual) for tests and benchmarks."""

from __future__ import annotations

import json
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

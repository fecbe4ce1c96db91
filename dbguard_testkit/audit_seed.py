"""Many stored audit events, written straight into the table the way audit_ingest writes them."""

from __future__ import annotations

import json
import random
from typing import Any

from dbguard.adapters.dynamodb import to_item
from dbguard.audit.parsing import parse_body
from dbguard.audit.records import audit_record
from dbguard_testkit.samples import connection_event, ddl_event

DAY_MS = 86_400_000
START_MS = 1_785_000_000_000
USERS = ("app_billing", "dba_ivanov", "etl", "auditor", 'svc,quoted "one"')
NAMES = ("connection attempt", "DROP TABLE", "CREATE TABLE", "ALTER TABLE")
DATABASES = ("billing", "orders", "crm")
SERVICES = ("qhb-billing-01", "qhb-orders-01")
NODES = ("10.1.2.50", "10.1.2.51", "jumpserver-proxy")


def events(count: int, days: int = 5, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    made = []
    for index in range(count):
        name = rng.choice(NAMES)
        build = connection_event if name == "connection attempt" else ddl_event
        made.append(
            build(
                name=name,
                Datetime=START_MS + rng.randrange(days * DAY_MS),
                userLogin=rng.choice(USERS),
                serviceName=rng.choice(SERVICES),
                userNode=rng.choice(NODES),
                params=[
                    {"Name": "database", "Value": rng.choice(DATABASES)},
                    {"Name": "seq", "Value": str(index)},
                ],
            )
        )
    return made


def store(dynamodb: Any, table: str, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write the events; returns their stored records (plain values)."""
    parsed = []
    for start in range(0, len(documents), 100):  # parse_body takes at most 100 events at once
        parsed += parse_body(json.dumps(documents[start : start + 100]).encode(), 1 << 30).events
    records = [audit_record(event, START_MS, 0) for event in parsed]
    for start in range(0, len(records), 25):
        batch = [{"PutRequest": {"Item": to_item(record)}} for record in records[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={table: batch})
    return records

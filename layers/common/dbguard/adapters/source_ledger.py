"""Last seen per audit source in DynamoDB: written lazily from the ingest paths, read by the check.

The ingest paths must not add a write per event (or per request): `seen` keeps counts in memory and
writes a source's item at most once per FLUSH_INTERVAL_MS per execution environment, so a source's
last-seen time lags by at most that much - far inside SourceSilenceMinutes. Counts held when an
environment is recycled are lost, so `eventsLast24h` may undercount by that (docs/audit-ingest.md).
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dbguard.adapters import aws
from dbguard.adapters.dynamodb import error_code, from_item, to_item
from dbguard.audit.sources import HOUR_MS, SourceRecord
from dbguard.observability import logger

FLUSH_INTERVAL_MS = 60_000
_HOUR_PREFIX = "h"  # attributes h<hours since the epoch>: new events received that hour


class SourceLedgerTable:
    """dbguard.audit.ports.SourceActivity for the ingest paths, dbguard.audit.sources.SourceLedger for
    the check."""

    def __init__(self, table_name: str, dynamodb: Any, flush_interval_ms: int = FLUSH_INTERVAL_MS) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb
        self._interval = flush_interval_ms
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[int, dict[int, int]]] = {}  # source -> (last seen, hour -> count)
        self._flushed_at: dict[str, int] = {}

    @classmethod
    def create(cls, table_name: str) -> SourceLedgerTable:
        return cls(table_name, aws.client_on_first_use("dynamodb"))

    def seen(self, source: str, events: int, at_ms: int) -> None:
        with self._lock:
            _, hours = self._pending.get(source, (at_ms, {}))
            hour = at_ms // HOUR_MS
            hours[hour] = hours.get(hour, 0) + events
            self._pending[source] = (at_ms, hours)
            due = at_ms - self._flushed_at.get(source, -self._interval) >= self._interval
        if due:
            self._write(source)

    def flush(self) -> None:
        for source in list(self._pending):
            self._write(source)

    def _write(self, source: str) -> None:
        with self._lock:
            pending = self._pending.pop(source, None)
            if pending is None:
                return
            last_seen, hours = pending
            self._flushed_at[source] = last_seen
        names = {f"#h{index}": f"{_HOUR_PREFIX}{hour}" for index, hour in enumerate(hours)}
        values = {f":h{index}": count for index, count in enumerate(hours.values())}
        additions = ", ".join(f"#h{index} :h{index}" for index in range(len(hours)))
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key=to_item({"source": source}),
                UpdateExpression=f"SET lastSeen = :seen ADD events :total, {additions}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(
                    {":seen": last_seen, ":total": sum(hours.values()), **values}
                ),
            )
        except (BotoCoreError, ClientError) as error:  # never fails the ingest: the events are stored
            logger.warning(
                "audit source's last seen not written", extra={"source": source, "error": str(error)}
            )

    def records(self) -> list[SourceRecord]:
        found = []
        request: dict[str, Any] = {"TableName": self._table_name, "ConsistentRead": True}
        while True:
            page = self._dynamodb.scan(**request)
            found += [_record(from_item(item)) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def declare(self, source: str, at_ms: int) -> None:
        self._dynamodb.update_item(
            TableName=self._table_name,
            Key=to_item({"source": source}),
            UpdateExpression="SET declaredAt = if_not_exists(declaredAt, :at)",
            ExpressionAttributeValues=to_item({":at": at_ms}),
        )

    def mark(self, source: str, silent: bool, at_ms: int) -> bool:
        update = (
            "SET silent = :silent, silentSince = :at" if silent else "SET silent = :silent REMOVE silentSince"
        )
        values: dict[str, bool | int] = {":silent": silent, ":was": not silent}
        if silent:
            values[":at"] = at_ms
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key=to_item({"source": source}),
                UpdateExpression=update,
                ConditionExpression="attribute_not_exists(silent) OR silent = :was",
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False  # another run changed it first, and announced it
            raise
        return True

    def forget_hours(self, source: str, hours: list[int]) -> None:
        names = {f"#h{index}": f"{_HOUR_PREFIX}{hour}" for index, hour in enumerate(hours)}
        self._dynamodb.update_item(
            TableName=self._table_name,
            Key=to_item({"source": source}),
            UpdateExpression="REMOVE " + ", ".join(names),
            ExpressionAttributeNames=names,
        )


def _record(item: dict[str, Any]) -> SourceRecord:
    hours = {
        int(name[len(_HOUR_PREFIX) :]): value
        for name, value in item.items()
        if name.startswith(_HOUR_PREFIX) and name[len(_HOUR_PREFIX) :].isdigit()
    }
    return SourceRecord(
        source=item["source"],
        last_seen_ms=item.get("lastSeen"),
        events_by_hour=hours,
        silent=item.get("silent") is True,
        silent_since_ms=item.get("silentSince"),
        declared_at_ms=item.get("declaredAt"),
    )

"""DynamoDB access for audit events: conditional writes that make storage exactly-once."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from dbguard.adapters import aws
from dbguard.adapters.dynamodb import error_code, storage_errors, to_item
from dbguard.digest.hours import storage_attributes

# The items are built by dbguard.audit.records from validated events: botocore's own check of every
# attribute (a fifth of a put_item's CPU, for 15-odd attributes) would repeat what DynamoDB checks.
_CLIENT_CONFIG = aws.CLIENT_CONFIG.merge(Config(parameter_validation=False))


class AuditStore:
    """Implements dbguard.audit.ports.EventWriter."""

    def __init__(
        self,
        table_name: str,
        dynamodb: Any,
        retry_after_seconds: int,
        max_parallel_writes: int = 8,
        clock_ns: Callable[[], int] = time.time_ns,  # the storage time stamped on every item
    ) -> None:
        self._table_name = table_name
        self._clock_ns = clock_ns
        self._dynamodb = dynamodb
        self._retry_after = retry_after_seconds
        self._pool = ThreadPoolExecutor(max_workers=max_parallel_writes, thread_name_prefix="audit-put")

    @classmethod
    def create(cls, table_name: str, retry_after_seconds: int) -> AuditStore:
        return cls(table_name, aws.client("dynamodb", _CLIENT_CONFIG), retry_after_seconds)

    def put_if_absent(self, record: dict[str, Any]) -> bool:
        """Store the record unless its id exists; True when this call created it.

        Every item gets the time of its write and that hour's byStoredHour key here, whoever built
        the record (ingest, an import): the hourly digests cover items by the hour they were stored
        in (docs/audit-digests.md). Stamped as the write starts, so it lands well within the margin
        the digest run waits after the hour (three attempts of at most 7 s each)."""
        stamped = {**record, **storage_attributes(record["id"], self._clock_ns() // 1_000_000)}
        with storage_errors("write", self._retry_after):
            try:
                self._dynamodb.put_item(
                    TableName=self._table_name,
                    Item=to_item(stamped),
                    ConditionExpression="attribute_not_exists(id)",
                )
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    def put_all_if_absent(self, records: Sequence[dict[str, Any]]) -> list[bool | Exception]:
        """Write in parallel; every write has finished (stored or failed) before this returns, so no
        write is left running when the invocation ends and Lambda freezes it. Each answer is True
        (created), False (stored before) or the error of that write: the caller must still act on
        the writes that succeeded next to one that failed (announce them), then raise the error."""
        if len(records) == 1:
            return [self._attempt(records[0])]
        futures = [self._pool.submit(self._attempt, record) for record in records]
        wait(futures)
        return [future.result() for future in futures]

    def _attempt(self, record: dict[str, Any]) -> bool | Exception:
        try:
            return self.put_if_absent(record)
        except Exception as error:  # handed back; the caller raises it after acting on the rest
            return error

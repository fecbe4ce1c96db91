"""One storage hour's items, read from byStoredHour (projection ALL): its 16 shards queried in parallel."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from queue import Queue
from threading import Event
from typing import Any

from botocore.config import Config

from dbguard.adapters import aws
from dbguard.audit.keys import SHARDS
from dbguard.digest.hours import STORED_HOUR_INDEX, STORED_HOUR_KEY_ATTRIBUTE, index_keys

# A digest run reads up to a million items, 1 MB a page: a slow page must not fail the run
_PAGES_IN_FLIGHT = 16  # about 16 MB of items (300 MB parsed) waiting to be hashed
_CLIENT_CONFIG = aws.CLIENT_CONFIG.merge(
    Config(read_timeout=30, retries={"mode": "standard", "max_attempts": 8})
)


class StoredHourReader:
    """Implements dbguard.digest.ports.StoredHours."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb
        self._pool = ThreadPoolExecutor(max_workers=SHARDS, thread_name_prefix="stored-hour")

    @classmethod
    def create_for(cls, table_name: str) -> StoredHourReader:
        return cls(table_name, aws.client("dynamodb", _CLIENT_CONFIG))

    def items(self, hour: int) -> Iterator[dict[str, Any]]:
        """Pages flow through a bounded queue as the shards' readers fetch them: a million items are
        never all in memory at once, only what the caller has not consumed yet."""
        pages: Queue[list[dict[str, Any]] | BaseException | None] = Queue(maxsize=_PAGES_IN_FLIGHT)
        stop = Event()
        keys = index_keys(hour)
        for key in keys:
            self._pool.submit(self._shard, key, pages, stop)
        finished = 0
        try:
            while finished < len(keys):
                page = pages.get()
                if page is None:
                    finished += 1
                elif isinstance(page, BaseException):
                    raise page
                else:
                    yield from page
        finally:  # a consumer that stops early: each reader puts at most one more page, then ends
            stop.set()
            while finished < len(keys):
                finished += pages.get() is None

    def _shard(
        self, key: str, pages: Queue[list[dict[str, Any]] | BaseException | None], stop: Event
    ) -> None:
        try:
            for page in self._pages(key):
                if stop.is_set():
                    break
                pages.put(page)
        except BaseException as error:  # handed to the consumer, which raises it
            pages.put(error)
        pages.put(None)

    def _pages(self, key: str) -> Iterator[list[dict[str, Any]]]:
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "IndexName": STORED_HOUR_INDEX,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": STORED_HOUR_KEY_ATTRIBUTE},
            "ExpressionAttributeValues": {":k": {"S": key}},
        }
        for page in self._dynamodb.get_paginator("query").paginate(**request):
            yield page["Items"]

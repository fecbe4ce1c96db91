"""Reading audit events back: one index, its 16 shards queried in parallel and merged newest first.

Each shard is read lazily, a few items more than its share of the page at a time, so the index
items read stay close to the items returned; the page's full events (`raw`) are then fetched with
BatchGetItem, since the indexes project only the filterable attributes. Throttling or an unreachable
table is StorageUnavailable: the auditor is told when to retry.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dbguard.adapters import aws
from dbguard.adapters.dynamodb import from_item, storage_errors, to_item
from dbguard.audit.filters import QueryPlan
from dbguard.audit.keys import (
    INDEX_KEY_ATTRIBUTES,
    INDEX_NAMES,
    SHARDS,
    SORT_KEY_ATTRIBUTE,
    partition_key,
    sort_key_bound,
)
from dbguard.audit.ports import IndexPage

_BATCH_GET_LIMIT = 100
_STORED = "id, #raw, receivedAt, direct"  # RAW is a DynamoDB reserved word
_STORED_NAMES = {"#raw": "raw"}


@dataclass
class _Shard:
    reader: AuditReader
    request: dict[str, Any]
    first_page: dict[str, Any] = field(default_factory=dict)
    read: int = 0

    def fetch(self) -> dict[str, Any]:
        response: dict[str, Any] = self.reader.dynamodb.query(**self.request)
        self.read += response.get("ScannedCount", 0)
        return response

    def __iter__(self) -> Iterator[dict[str, Any]]:
        response = self.first_page
        while True:
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
            self.request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            self.request["Limit"] = _next_limit(self.request["Limit"], response)
            response = self.fetch()


def _next_limit(previous: int, response: dict[str, Any]) -> int:
    """Small follow-up reads while the shard keeps up; larger ones while a filter discards items."""
    if response.get("Count", 0) < response.get("ScannedCount", 0):
        return min(previous * 2, 1000)
    return max(2, previous // 2)


class AuditReader:
    """Implements dbguard.audit.ports.EventReader."""

    def __init__(
        self, table_name: str, dynamodb: Any, retry_after_seconds: int, parallelism: int = SHARDS
    ) -> None:
        self.table_name = table_name
        self.dynamodb = dynamodb
        self._retry_after = retry_after_seconds
        self._pool = ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="audit-query")

    @classmethod
    def create(cls, table_name: str, retry_after_seconds: int) -> AuditReader:
        return cls(table_name, aws.client("dynamodb"), retry_after_seconds)

    def get(self, event_id: str) -> dict[str, Any] | None:
        with storage_errors("read", self._retry_after):
            response = self.dynamodb.get_item(
                TableName=self.table_name,
                Key=to_item({"id": event_id}),
                ProjectionExpression=_STORED,
                ExpressionAttributeNames=_STORED_NAMES,
            )
        return from_item(response["Item"]) if "Item" in response else None

    def page(self, query: QueryPlan, limit: int, after_ts: str | None) -> IndexPage:
        with storage_errors("read", self._retry_after):
            return self._page(query, limit, after_ts)

    def _page(self, query: QueryPlan, limit: int, after_ts: str | None) -> IndexPage:
        per_shard = -(-(limit + 1) // SHARDS)  # each shard's share; uneven shards read a little more
        shards = [_Shard(self, self._request(query, shard, per_shard, after_ts)) for shard in range(SHARDS)]
        for shard, response in zip(shards, self._pool.map(_Shard.fetch, shards), strict=True):
            shard.first_page = response
        merged = heapq.merge(*shards, key=lambda item: item[SORT_KEY_ATTRIBUTE]["S"], reverse=True)
        if after_ts is not None:  # the bound is inclusive; the cursor's own event was on the last page
            merged = (item for item in merged if item[SORT_KEY_ATTRIBUTE]["S"] != after_ts)
        chosen = list(itertools.islice(merged, limit + 1))
        more = len(chosen) > limit
        chosen = chosen[:limit]
        events = self._events([from_item(item)["id"] for item in chosen])
        last_ts = chosen[-1][SORT_KEY_ATTRIBUTE]["S"] if more else None
        return IndexPage(events, last_ts, sum(shard.read for shard in shards))

    def _request(self, query: QueryPlan, shard: int, limit: int, after_ts: str | None) -> dict[str, Any]:
        upper = after_ts or sort_key_bound(query.to_ms, upper=True)
        names = {"#pk": INDEX_KEY_ATTRIBUTES[query.dimension], "#ts": SORT_KEY_ATTRIBUTE}
        values = {
            ":pk": partition_key(query.dimension, query.key_value, shard),
            ":lo": sort_key_bound(query.from_ms, upper=False),
            ":hi": upper,
        }
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": INDEX_NAMES[query.dimension],
            "KeyConditionExpression": "#pk = :pk AND #ts BETWEEN :lo AND :hi",
            "ScanIndexForward": False,
            "Limit": limit,
        }
        conditions = []
        for position, (dimension, value) in enumerate(sorted(query.filters.items())):
            names[f"#f{position}"] = dimension.value
            values[f":f{position}"] = value
            conditions.append(f"#f{position} = :f{position}")
        if conditions:
            request["FilterExpression"] = " AND ".join(conditions)
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = to_item(values)
        return request

    def _events(self, ids: list[str]) -> list[dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), _BATCH_GET_LIMIT):
            keys = [to_item({"id": event_id}) for event_id in ids[start : start + _BATCH_GET_LIMIT]]
            request: dict[str, Any] | None = {
                self.table_name: {
                    "Keys": keys,
                    "ProjectionExpression": _STORED,
                    "ExpressionAttributeNames": _STORED_NAMES,
                }
            }
            while request:
                response = self.dynamodb.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.table_name, []):
                    record = from_item(item)
                    found[record["id"]] = record
                request = response.get("UnprocessedKeys") or None
        return [found[event_id] for event_id in ids if event_id in found]

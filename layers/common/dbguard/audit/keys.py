"""The audit table's key design, shared by the writer and the query side (docs/audit-storage.md).

Each access pattern has a global secondary index whose partition key is `<value>#<shard>`, with
the shard derived from the event id, so one busy user, event name or database spreads its writes
over SHARDS partitions; every index sorts by `ts` (zero-padded Datetime, then the id), so a time
range is a key condition and "newest first" is a reverse query merged across the shards.
"""

from __future__ import annotations

from enum import StrEnum

from dbguard.audit.limits import LATEST_DATETIME_MS

SHARDS = 16
EVENT_ID_PATTERN = r"^[0-9a-f]{32}$"  # the table's key, as dbguard.audit.parsing.event_id makes it
_DATETIME_WIDTH = len(str(LATEST_DATETIME_MS))
MAX_INDEXED_VALUE_BYTES = 1024  # DynamoDB allows 2048 for a partition key; leave room for the suffix


class Dimension(StrEnum):
    """What an index is keyed by; the values are the stored attributes (qhb_audit's names)."""

    TIME = "time"
    USER_LOGIN = "userLogin"
    NAME = "name"
    SERVICE_NAME = "serviceName"
    DATABASE = "database"
    USER_NODE = "userNode"
    DIRECT = "direct"  # connection attempts that bypassed the JumpServer proxy (dbguard.audit.direct)


INDEX_NAMES = {
    Dimension.TIME: "byTime",
    Dimension.USER_LOGIN: "byUser",
    Dimension.NAME: "byName",
    Dimension.SERVICE_NAME: "byService",
    Dimension.DATABASE: "byDatabase",
    Dimension.USER_NODE: "byNode",
    Dimension.DIRECT: "byDirect",
}

INDEX_KEY_ATTRIBUTES = {
    Dimension.TIME: "gsiTime",
    Dimension.USER_LOGIN: "gsiUser",
    Dimension.NAME: "gsiName",
    Dimension.SERVICE_NAME: "gsiService",
    Dimension.DATABASE: "gsiDatabase",
    Dimension.USER_NODE: "gsiNode",
    Dimension.DIRECT: "gsiDirect",
}

SORT_KEY_ATTRIBUTE = "ts"
# The time and direct indexes have no value to key on: every event they hold lands in one of SHARDS
# partitions of a fixed name.
_FIXED_VALUES = {Dimension.TIME: "all", Dimension.DIRECT: "direct"}


def shard_of(event_id: str) -> int:
    return int(event_id[:8], 16) % SHARDS


def sort_key(datetime_ms: int, event_id: str) -> str:
    return f"{datetime_ms:0{_DATETIME_WIDTH}d}#{event_id}"


def sort_key_bound(datetime_ms: int, *, upper: bool) -> str:
    """A `ts` bound covering every id at that millisecond ('#~' sorts after '#<hex id>')."""
    return f"{datetime_ms:0{_DATETIME_WIDTH}d}#{'~' if upper else ''}"


def partition_key(dimension: Dimension, value: str | None, shard: int) -> str:
    return f"{_FIXED_VALUES.get(dimension, value)}#{shard:02d}"


def is_indexable(value: str | None) -> bool:
    """Absent or empty values are not indexed (sparse index); oversized ones cannot be keys."""
    return value is not None and 0 < len(value.encode("utf-8")) <= MAX_INDEXED_VALUE_BYTES

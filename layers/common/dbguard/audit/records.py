"""An accepted event as it is stored: the raw payload plus the attributes the indexes need."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dbguard.audit.keys import (
    INDEX_KEY_ATTRIBUTES,
    SORT_KEY_ATTRIBUTE,
    Dimension,
    is_indexable,
    partition_key,
    shard_of,
    sort_key,
)
from dbguard.audit.params import DATABASE_PARAM_NAMES, first_param

if TYPE_CHECKING:  # audit_query reads DIRECT_ATTRIBUTE only: it need not build the ingest parser
    from dbguard.audit.parsing import ParsedEvent

SECONDS_PER_DAY = 86_400
DIRECT_ATTRIBUTE = "direct"


def audit_record(
    parsed: ParsedEvent, received_at_ms: int, retention_days: int, direct: bool = False
) -> dict[str, Any]:
    """The DynamoDB item (plain Python values) for one event; `direct`: a connection attempt that
    bypassed the JumpServer proxy (dbguard.audit.direct)."""
    event = parsed.event
    shard = shard_of(parsed.id)
    record: dict[str, Any] = {
        "id": parsed.id,
        SORT_KEY_ATTRIBUTE: sort_key(event.datetime_ms, parsed.id),
        "Datetime": event.datetime_ms,
        "receivedAt": received_at_ms,
        "raw": parsed.canonical,
        INDEX_KEY_ATTRIBUTES[Dimension.TIME]: partition_key(Dimension.TIME, None, shard),
    }
    filterable = {
        Dimension.USER_LOGIN: event.user_login,
        Dimension.NAME: event.name,
        Dimension.SERVICE_NAME: event.service_name,
        Dimension.DATABASE: first_param(event.params, DATABASE_PARAM_NAMES),
        Dimension.USER_NODE: event.user_node,
    }
    for dimension, value in filterable.items():
        if value is None:
            continue
        record[dimension.value] = value
        if is_indexable(value):
            record[INDEX_KEY_ATTRIBUTES[dimension]] = partition_key(dimension, value, shard)
    if direct:  # only direct events carry the key: byDirect is a sparse index of them alone
        record[DIRECT_ATTRIBUTE] = True
        record[INDEX_KEY_ATTRIBUTES[Dimension.DIRECT]] = partition_key(Dimension.DIRECT, None, shard)
    if retention_days:
        record["expiresAt"] = received_at_ms // 1000 + retention_days * SECONDS_PER_DAY
    return record

"""Storage hours: the hour of the clock of the write that stored an event, not the event's own time.

An hour is an integer (hours since the epoch, UTC); its label `2026-12-07T01` names it in digests,
object keys and the byStoredHour index. The index key is `<label>#<shard>` over the audit table's
16 shards, so one hour's writes (5,000 events/s) spread as every other index's do."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from dbguard.audit.keys import SHARDS, shard_of

HOUR_MS = 3_600_000
STORED_AT_ATTRIBUTE = "storedAt"  # ms since the epoch, the writer's clock at the write
STORED_HOUR_KEY_ATTRIBUTE = "gsiStoredHour"
STORED_HOUR_INDEX = "byStoredHour"
_LABEL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2})$")


def hour_of(ms: int) -> int:
    return ms // HOUR_MS


def label(hour: int) -> str:
    return datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%dT%H")


def parse_label(text: str) -> int:
    """`2026-12-07T01` (or a longer ISO time within that hour, `...T01:00Z`) -> its hour."""
    match = _LABEL.match(text[:13])
    if match is None:
        raise ValueError(f"not an hour (expected YYYY-MM-DDTHH, UTC): {text!r}")
    year, month, day, hour = (int(part) for part in match.groups())
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp()) // 3600


def index_key(hour: int, shard: int) -> str:
    return f"{label(hour)}#{shard:02d}"


def storage_attributes(event_id: str, stored_at_ms: int) -> dict[str, int | str]:
    """What the writer adds to every item it stores: the time of the write and its hour's index key."""
    return {
        STORED_AT_ATTRIBUTE: stored_at_ms,
        STORED_HOUR_KEY_ATTRIBUTE: index_key(hour_of(stored_at_ms), shard_of(event_id)),
    }


def index_keys(hour: int) -> list[str]:
    return [index_key(hour, shard) for shard in range(SHARDS)]

"""The auditors' query: filters as the API takes them, resolved to an index plan.

A time range is always applied (default: the last DEFAULT_WINDOW_HOURS hours), so every query is a
key condition on an index and never a scan. The most selective filter given chooses the index
(direct=true, then userLogin, database, userNode, serviceName, name; the time index when none is
given); the others are applied as filters on that index's projected attributes.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from dbguard.audit.keys import MAX_INDEXED_VALUE_BYTES, Dimension
from dbguard.audit.models import LATEST_DATETIME_MS

DEFAULT_WINDOW_HOURS = 24
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
INDEX_PREFERENCE = (
    Dimension.USER_LOGIN, Dimension.DATABASE, Dimension.USER_NODE, Dimension.SERVICE_NAME, Dimension.NAME,
)  # fmt: skip


def _epoch_ms(value: Any) -> Any:
    """`from`/`to`: milliseconds since the epoch, or ISO 8601 (UTC when no offset is given)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be milliseconds since the epoch or an ISO 8601 date-time") from None
        return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)
    return value


def _only_true(value: bool) -> bool:
    if not value:
        raise ValueError("only direct=true is a filter; leave `direct` out for every event")
    return value


EpochMs = Annotated[int, BeforeValidator(_epoch_ms), Field(ge=0, le=LATEST_DATETIME_MS)]
FilterValue = Annotated[str, StringConstraints(min_length=1, max_length=MAX_INDEXED_VALUE_BYTES // 4)]


class EventFilters(BaseModel):
    """The query string of GET /audit/events (names are the API's, as qhb_audit spells them)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    from_ms: EpochMs | None = Field(default=None, alias="from")
    to_ms: EpochMs | None = Field(default=None, alias="to")
    user_login: FilterValue | None = Field(default=None, alias="userLogin")
    name: FilterValue | None = None
    service_name: FilterValue | None = Field(default=None, alias="serviceName")
    database: FilterValue | None = None
    user_node: FilterValue | None = Field(default=None, alias="userNode")
    direct: Annotated[bool, AfterValidator(_only_true)] | None = None
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: Annotated[str, StringConstraints(max_length=1024)] | None = None

    @model_validator(mode="after")
    def _range_in_order(self) -> Self:
        if self.from_ms is not None and self.to_ms is not None and self.from_ms > self.to_ms:
            raise ValueError("'from' is after 'to'")
        return self

    def values(self) -> dict[Dimension, str]:
        given = {
            Dimension.USER_LOGIN: self.user_login, Dimension.NAME: self.name,
            Dimension.SERVICE_NAME: self.service_name, Dimension.DATABASE: self.database,
            Dimension.USER_NODE: self.user_node,
        }  # fmt: skip
        return {dimension: value for dimension, value in given.items() if value is not None}

    def digest(self) -> str:
        """What a cursor is bound to: every filter except the page size and the cursor itself."""
        chosen = self.model_dump(by_alias=True, exclude={"limit", "cursor"}, exclude_none=True)
        return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:16]


class QueryPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    dimension: Dimension
    key_value: str | None
    filters: dict[Dimension, str]
    from_ms: int
    to_ms: int


def plan(filters: EventFilters, now_ms: int | None = None) -> QueryPlan:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    to_ms = filters.to_ms if filters.to_ms is not None else now_ms
    from_ms = (
        filters.from_ms if filters.from_ms is not None else max(to_ms - DEFAULT_WINDOW_HOURS * 3_600_000, 0)
    )
    values = filters.values()
    # Direct connections are the exception the bundle exists to remove: their sparse index is the
    # smallest one that holds the answer, and the only one that knows which events are direct.
    dimension = (
        Dimension.DIRECT
        if filters.direct
        else next((d for d in INDEX_PREFERENCE if d in values), Dimension.TIME)
    )
    rest = {d: v for d, v in values.items() if d is not dimension}
    return QueryPlan(
        dimension=dimension, key_value=values.get(dimension), filters=rest, from_ms=from_ms, to_ms=to_ms
    )

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from dbguard.audit.keys import MAX_INDEXED_VALUE_BYTES, Dimension
from dbguard.audit.limits import LATEST_DATETIME_MS
from dbguard.query_string import parse_query_string

DEFAULT_WINDOW_HOURS = 24
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
INDEX_PREFERENCE = (
    Dimension.USER_LOGIN, Dimension.DATABASE, Dimension.USER_NODE, Dimension.SERVICE_NAME, Dimension.NAME,
)  # fmt: skip
_MAX_MOMENT_CHARS = 40  # an ISO 8601 date-time with fractions and an offset fits
_EXACT = "exact match on the event's field of this name"


def _epoch_ms(value: Any) -> Any:
    """`from`/`to`: milliseconds since the epoch, or ISO 8601 (UTC when no offset is given)."""
    if not isinstance(value, str):
        return value
    if len(value) > _MAX_MOMENT_CHARS:
        raise ValueError(f"must be at most {_MAX_MOMENT_CHARS} characters")
    if value.strip().isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be milliseconds since the epoch or an ISO 8601 date-time") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def _only_true(value: Any) -> bool:
    """Exactly `true`, as the query string spells it: "1" or "yes" are refused, not guessed at."""
    if value != "true" and value is not True:
        raise ValueError("only direct=true is a filter; leave `direct` out for every event")
    return True


def _moment(description: str) -> Any:
    return WithJsonSchema({"type": "string", "maxLength": _MAX_MOMENT_CHARS, "description": description})


# The JSON schemas describe the query string (dbguard.http_openapi.query_parameters), not the parsed values.
EpochMs = Annotated[int, BeforeValidator(_epoch_ms), Field(ge=0, le=LATEST_DATETIME_MS)]
FilterValue = Annotated[str, StringConstraints(min_length=1, max_length=MAX_INDEXED_VALUE_BYTES // 4)]
OnlyTrue = Annotated[
    bool,
    BeforeValidator(_only_true),
    WithJsonSchema({"type": "string", "const": "true", "description": "true: only connection attempts "
                    "that bypassed the JumpServer DB proxy"}),
]  # fmt: skip


class EventFilters(BaseModel):
    """The query string of GET /audit/events (names are the API's, as qhb_audit spells them): the one
    definition the handler validates with, for JSON and CSV alike, and the OpenAPI document shows."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    from_ms: Annotated[EpochMs | None, _moment("ISO 8601 or ms")] = Field(default=None, alias="from")
    to_ms: Annotated[EpochMs | None, _moment("ISO 8601 or ms; default now")] = Field(default=None, alias="to")
    user_login: FilterValue | None = Field(default=None, alias="userLogin", description=_EXACT)
    name: FilterValue | None = Field(default=None, description=_EXACT)
    service_name: FilterValue | None = Field(default=None, alias="serviceName", description=_EXACT)
    database: FilterValue | None = Field(default=None, description="exact match on the database named in "
                                         "the event's params (docs/audit-storage.md)")  # fmt: skip
    user_node: FilterValue | None = Field(default=None, alias="userNode", description=_EXACT)
    direct: OnlyTrue | None = None
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="events per page")
    cursor: Annotated[str, StringConstraints(max_length=1024)] | None = Field(
        default=None, description="the previous page's nextCursor"
    )

    @classmethod
    def of_query_string(cls, parameters: Mapping[str, Sequence[str]]) -> EventFilters:
        """The filters of a query string, each name with the values it was given (API Gateway's
        multiValueQueryStringParameters); unknown or repeated names and invalid values are refused."""
        return parse_query_string(cls, parameters, "filter")

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


@dataclass(frozen=True)
class QueryPlan:
    """Which index a search reads and what it filters; built from validated EventFilters, so a
    dataclass: nothing to validate again."""

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

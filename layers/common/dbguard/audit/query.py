"""The auditors' search: filters -> index plan -> a page of events and the cursor to the next one."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dbguard.audit.cursor import CursorCodec, Position
from dbguard.audit.filters import EventFilters, plan
from dbguard.audit.reader import AuditReader


class StoredEvent(BaseModel):
    """One audit event as the API returns it: dbguard's id and receipt time, and the event as sent."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description="dbguard's content-derived id of the event")
    received_at: int = Field(alias="receivedAt", description="when dbguard stored it, ms since the epoch")
    event: dict[str, Any] = Field(
        description="the qhb_audit event exactly as received, unknown fields included"
    )


class EventPage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    events: list[StoredEvent] = Field(description="newest first")
    next_cursor: str | None = Field(alias="nextCursor", description="pass as ?cursor= for the next page")


@dataclass(frozen=True)
class SearchResult:
    page: EventPage
    index_items_read: int


class AuditSearch:
    def __init__(self, reader: AuditReader, codec: Callable[[], CursorCodec]) -> None:
        self._reader = reader
        self._codec = codec  # read lazily: the key lives in Secrets Manager

    def search(self, filters: EventFilters) -> SearchResult:
        digest = filters.digest()
        position = self._codec().decode(filters.cursor, digest) if filters.cursor else None
        query = plan(filters)
        if position is not None:  # the range as resolved on the first page ("last 24 h" of then)
            query = query.model_copy(update={"from_ms": position.from_ms})
        page = self._reader.page(query, filters.limit, position.after_ts if position else None)
        next_cursor = None
        if page.last_ts is not None:
            next_cursor = self._codec().encode(Position(page.last_ts, query.from_ms, digest))
        events = [_stored(record) for record in page.events]
        return SearchResult(EventPage(events=events, next_cursor=next_cursor), page.index_items_read)

    def get(self, event_id: str) -> StoredEvent | None:
        record = self._reader.get(event_id)
        return _stored(record) if record else None


def _stored(record: dict[str, Any]) -> StoredEvent:
    return StoredEvent(id=record["id"], received_at=record["receivedAt"], event=json.loads(record["raw"]))

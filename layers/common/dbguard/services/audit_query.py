"""The auditors' search: filters -> index plan -> a page of events and the cursor to the next one."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from dbguard.audit.cursor import CursorCodec, Position
from dbguard.audit.filters import EventFilters, plan
from dbguard.audit.keys import EVENT_ID_PATTERN
from dbguard.audit.ports import EventReader
from dbguard.audit.stored import EventPage, StoredEvent, stored_event
from dbguard.errors import InvalidQuery, Problem

_EVENT_ID = re.compile(EVENT_ID_PATTERN)


@dataclass(frozen=True)
class SearchResult:
    page: EventPage
    index_items_read: int


class AuditSearch:
    def __init__(self, reader: EventReader, codec: Callable[[], CursorCodec]) -> None:
        self._reader = reader
        self._codec = codec  # read lazily: the key lives in Secrets Manager

    def search(self, filters: EventFilters) -> SearchResult:
        digest = filters.digest()
        position = self._codec().decode(filters.cursor, digest) if filters.cursor else None
        query = plan(filters)
        if position is not None:  # the range as resolved on the first page ("last 24 h" of then)
            query = replace(query, from_ms=position.from_ms)
        page = self._reader.page(query, filters.limit, position.after_ts if position else None)
        next_cursor = None
        if page.last_ts is not None:
            next_cursor = self._codec().encode(Position(page.last_ts, query.from_ms, digest))
        events = [stored_event(record) for record in page.events]
        return SearchResult(EventPage(events=events, next_cursor=next_cursor), page.index_items_read)

    def get(self, event_id: str) -> StoredEvent | None:
        if not _EVENT_ID.fullmatch(event_id):
            message = "must be 32 lowercase hex digits, as ingest answered it"
            raise InvalidQuery(f"id: {message}", [Problem("id", message)])
        record = self._reader.get(event_id)
        return stored_event(record) if record else None

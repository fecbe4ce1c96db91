"""The auditors' search: filters -> index plan -> a page of events and the cursor to the next one."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dbguard.audit.cursor import CursorCodec, Position
from dbguard.audit.filters import EventFilters, plan
from dbguard.audit.json_limits import load_stored, refusals
from dbguard.audit.keys import EVENT_ID_PATTERN
from dbguard.audit.limits import MAX_NESTING_DEPTH
from dbguard.audit.ports import EventReader
from dbguard.audit.records import DIRECT_ATTRIBUTE
from dbguard.errors import InvalidQuery, Problem
from dbguard.observability import logger

_EVENT_ID = re.compile(EVENT_ID_PATTERN)


class StoredEvent(BaseModel):
    """One audit event as the API returns it: dbguard's id and receipt time, and the event as sent."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description="dbguard's content-derived id of the event")
    received_at: int = Field(alias="receivedAt", description="when dbguard stored it, ms since the epoch")
    event: dict[str, Any] = Field(
        description="the qhb_audit event exactly as received, unknown fields included; when `notice` is "
        "set, only the fields that could be read"
    )
    notice: str | None = Field(
        default=None,
        description="null, or why `event` is incomplete and which fields it leaves out (a record stored "
        "before the ingest limits existed, or by hand, that cannot be answered as JSON as it stands)",
    )
    raw: str | None = Field(
        default=None, description="null, or (with `notice`) the payload exactly as stored, as text"
    )
    direct: bool = Field(
        default=False,
        description="true: a connection attempt that bypassed the JumpServer DB proxy (JumpServerProxyCidrs)",
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
        events = [_stored(record) for record in page.events]
        return SearchResult(EventPage(events=events, next_cursor=next_cursor), page.index_items_read)

    def get(self, event_id: str) -> StoredEvent | None:
        if not _EVENT_ID.fullmatch(event_id):
            message = "must be 32 lowercase hex digits, as ingest answered it"
            raise InvalidQuery(f"id: {message}", [Problem("id", message)])
        record = self._reader.get(event_id)
        return _stored(record) if record else None


def _stored(record: dict[str, Any]) -> StoredEvent:
    """Never fails on a stored record: what cannot be answered as JSON is left out, and said so."""
    raw = record.get("raw")
    event, notice = _readable(raw)
    received_at = record.get("receivedAt")
    if type(received_at) is not int:
        received_at, notice = 0, notice or "the stored record has no receipt time; receivedAt is 0"
    direct = record.get(DIRECT_ATTRIBUTE) is True  # absent on every other event
    if notice is None:
        return StoredEvent(id=record["id"], received_at=received_at, event=event, direct=direct)
    logger.warning("stored audit event answered incomplete", extra={"id": record["id"]})  # no content
    return StoredEvent(
        id=record["id"],
        received_at=received_at,
        event=event,
        notice=notice,
        raw=raw if isinstance(raw, str) else None,
        direct=direct,
    )


def _readable(raw: Any) -> tuple[dict[str, Any], str | None]:
    """The stored event and None, or the fields that can be answered and why the others cannot."""
    if not isinstance(raw, str):
        return {}, "the stored record has no payload as text"
    try:
        document = load_stored(raw)
    except (ValueError, RecursionError):
        return {}, "the stored payload cannot be read as JSON; see raw"
    if not isinstance(document, dict):
        return {}, "the stored payload is not a JSON object; see raw"
    unreadable = sorted({str(location[0]) for location, _ in refusals(document, 1)})
    if not unreadable:
        return document, None
    readable = {key: value for key, value in document.items() if key not in unreadable}
    return readable, (
        f"left out of event (nested deeper than {MAX_NESTING_DEPTH} levels, or a number that is not "
        f"finite): {', '.join(unreadable)}; raw holds the payload as stored"
    )

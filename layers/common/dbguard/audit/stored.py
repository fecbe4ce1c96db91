"""A stored audit event as the query API answers it. Reading never fails on a stored record: what
cannot be answered as JSON (a record written before the ingest limits, or by hand) is left out of
`event`, and the answer says so."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dbguard.audit.json_limits import load_stored, refusals
from dbguard.audit.limits import MAX_NESTING_DEPTH
from dbguard.audit.records import DIRECT_ATTRIBUTE
from dbguard.observability import logger


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


def stored_event(record: dict[str, Any]) -> StoredEvent:
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

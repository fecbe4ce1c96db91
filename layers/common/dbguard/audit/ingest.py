"""Storing a request's events exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, Field

from dbguard.audit.parsing import ParsedEvent
from dbguard.audit.records import audit_record


class EventWriter(Protocol):
    def put_all_if_absent(self, records: Sequence[dict[str, Any]]) -> list[bool]: ...


@dataclass(frozen=True)
class IngestResult:
    id: str
    duplicate: bool


class IngestAnswer(BaseModel):
    """The answer to one event (201 stored now, 200 already stored)."""

    id: str = Field(description="dbguard's content-derived id of the event")
    duplicate: bool = Field(description="true when this event was stored before: nothing was written")


class IngestBatchAnswer(BaseModel):
    """The answer to an array: one result per event, in request order."""

    results: list[IngestAnswer]
    stored: int = Field(description="events written by this request")
    duplicates: int = Field(description="events that were already stored (or repeated in the array)")

    @classmethod
    def of(cls, results: Sequence[IngestResult]) -> IngestBatchAnswer:
        answers = [IngestAnswer(id=r.id, duplicate=r.duplicate) for r in results]
        stored = sum(not r.duplicate for r in results)
        return cls(results=answers, stored=stored, duplicates=len(results) - stored)


def ingest_events(
    events: Sequence[ParsedEvent], writer: EventWriter, received_at_ms: int, retention_days: int
) -> list[IngestResult]:
    """Write each distinct event once; report, in request order, which ones were already stored.

    An event repeated inside one request is written once and reported as a duplicate from its
    second occurrence on. If storage fails midway, what was written stays written: the client's
    retry then finds those as duplicates and stores the rest.
    """
    distinct: dict[str, ParsedEvent] = {}
    for parsed in events:
        distinct.setdefault(parsed.id, parsed)
    records = [audit_record(parsed, received_at_ms, retention_days) for parsed in distinct.values()]
    created = dict(zip(distinct, writer.put_all_if_absent(records), strict=True))
    results = []
    for parsed in events:
        results.append(IngestResult(parsed.id, duplicate=not created[parsed.id]))
        created[parsed.id] = False  # any later occurrence in this request is a duplicate
    return results

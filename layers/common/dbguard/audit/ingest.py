"""Storing a request's events exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dbguard.audit.parsing import ParsedEvent
from dbguard.audit.records import audit_record


class EventWriter(Protocol):
    def put_all_if_absent(self, records: Sequence[dict[str, Any]]) -> list[bool]: ...


@dataclass(frozen=True)
class IngestResult:
    id: str
    duplicate: bool


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

"""Storing a request's events exactly once, and announcing each newly stored direct connection once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypedDict

from pydantic import Field

from dbguard.audit.direct import DirectConnection, DirectConnectionRules
from dbguard.audit.parsing import ParsedEvent
from dbguard.audit.ports import Announcer, EventWriter
from dbguard.audit.records import audit_record


@dataclass(frozen=True)
class IngestResult:
    id: str
    duplicate: bool
    direct: bool = False


# The answers are TypedDicts, not models: the handler answers them as they are (nothing to validate or
# build on a cold start), and the OpenAPI document reads the same descriptions.
class IngestAnswer(TypedDict):
    """The answer to one event (201 stored now, 200 already stored)."""

    id: Annotated[str, Field(description="dbguard's content-derived id of the event")]
    duplicate: Annotated[
        bool, Field(description="true when this event was stored before: nothing was written")
    ]


class IngestBatchAnswer(TypedDict):
    """The answer to an array: one result per event, in request order."""

    results: list[IngestAnswer]
    stored: Annotated[int, Field(description="events written by this request")]
    duplicates: Annotated[
        int, Field(description="events that were already stored (or repeated in the array)")
    ]


@dataclass(frozen=True)
class Ingest:
    """What storing a request needs, built once per cold start."""

    writer: EventWriter
    announcer: Announcer
    rules: DirectConnectionRules
    retention_days: int


def ingest_events(events: Sequence[ParsedEvent], ingest: Ingest, received_at_ms: int) -> list[IngestResult]:
    """Write each distinct event once; report, in request order, which ones were already stored.

    An event repeated inside one request is written once and reported as a duplicate from its
    second occurrence on. If storage fails midway, what was written stays written: the client's
    retry then finds those as duplicates and stores the rest. The conditional write decides what is
    new, so only this request can announce a direct connection it stored - and it does, even when
    another write of the request failed, because the retry will find that one a duplicate.
    """
    distinct: dict[str, ParsedEvent] = {}
    for parsed in events:
        distinct.setdefault(parsed.id, parsed)
    direct = {event_id for event_id, parsed in distinct.items() if ingest.rules.is_direct(parsed.event)}
    records = [
        audit_record(parsed, received_at_ms, ingest.retention_days, direct=parsed.id in direct)
        for parsed in distinct.values()
    ]
    outcomes = dict(zip(distinct, ingest.writer.put_all_if_absent(records), strict=True))
    stored_direct = [
        parsed for event_id, parsed in distinct.items() if event_id in direct and outcomes[event_id] is True
    ]
    if stored_direct:
        ingest.announcer.announce([DirectConnection.of(parsed) for parsed in stored_direct])
    failure = next((outcome for outcome in outcomes.values() if isinstance(outcome, Exception)), None)
    if failure is not None:
        raise failure
    return _results(events, {event_id: outcome is True for event_id, outcome in outcomes.items()}, direct)


def answer_to(results: Sequence[IngestResult], is_batch: bool) -> IngestAnswer | IngestBatchAnswer:
    """The body of the answer: one event's result, or an array's results and counts."""
    if not is_batch:
        return _answer(results[0])
    stored = sum(not result.duplicate for result in results)
    answers = [_answer(result) for result in results]
    return {"results": answers, "stored": stored, "duplicates": len(results) - stored}


def _answer(result: IngestResult) -> IngestAnswer:
    return {"id": result.id, "duplicate": result.duplicate}


def _results(events: Sequence[ParsedEvent], created: dict[str, bool], direct: set[str]) -> list[IngestResult]:
    results = []
    for parsed in events:
        results.append(IngestResult(parsed.id, duplicate=not created[parsed.id], direct=parsed.id in direct))
        created[parsed.id] = False  # any later occurrence in this request is a duplicate
    return results

"""Storing a request's events exactly once, and announcing each newly stored direct connection once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from dbguard.audit.answers import IngestAnswer, IngestBatchAnswer
from dbguard.audit.direct import DirectConnection, DirectConnectionRules
from dbguard.audit.parsing import ParsedBody, ParsedEvent
from dbguard.audit.ports import Announcer, EventWriter, NoSourceActivity, SourceActivity
from dbguard.audit.records import audit_record


@dataclass(frozen=True)
class IngestResult:
    id: str
    duplicate: bool
    direct: bool = False


@dataclass(frozen=True)
class IngestOutcome:
    """What a request stored, in request order, and the answer it gets."""

    results: list[IngestResult]
    is_batch: bool

    @property
    def stored(self) -> int:
        return sum(not result.duplicate for result in self.results)

    @property
    def direct_stored(self) -> int:
        return sum(result.direct and not result.duplicate for result in self.results)

    def answer(self) -> IngestAnswer | IngestBatchAnswer:
        """One event's result, or an array's results and counts."""
        if not self.is_batch:
            return _answer(self.results[0])
        answers = [_answer(result) for result in self.results]
        return {"results": answers, "stored": self.stored, "duplicates": len(self.results) - self.stored}


@dataclass(frozen=True)
class Ingest:
    """Storing audit events exactly once, whichever output of qhb_audit they came from."""

    writer: EventWriter
    announcer: Announcer
    rules: DirectConnectionRules
    retention_days: int
    # last seen per source (silent sources): held in memory, written at most once a minute per source
    sources: SourceActivity = field(default_factory=NoSourceActivity)

    def accept(self, request: ParsedBody, received_at_ms: int) -> IngestOutcome:
        """A POSTed request's events, stored; what to answer."""
        return IngestOutcome(self.store(request.events, received_at_ms), request.is_batch)

    def store(self, events: Sequence[ParsedEvent], received_at_ms: int) -> list[IngestResult]:
        """Write each distinct event once; report, in request order, which ones were already stored.

        An event repeated inside one request is written once and reported as a duplicate from its
        second occurrence on. If storage fails midway, what was written stays written: the client's
        retry then finds those as duplicates and stores the rest. The conditional write decides what
        is new, so only this request can announce a direct connection it stored - and it does, even
        when another write of the request failed, because the retry will find that one a duplicate.
        """
        distinct: dict[str, ParsedEvent] = {}
        for parsed in events:
            distinct.setdefault(parsed.id, parsed)
        direct = {event_id for event_id, parsed in distinct.items() if self.rules.is_direct(parsed.event)}
        records = [
            audit_record(parsed, received_at_ms, self.retention_days, direct=parsed.id in direct)
            for parsed in distinct.values()
        ]
        outcomes = dict(zip(distinct, self.writer.put_all_if_absent(records), strict=True))
        stored_direct = [
            parsed
            for event_id, parsed in distinct.items()
            if event_id in direct and outcomes[event_id] is True
        ]
        if stored_direct:
            self.announcer.announce([DirectConnection.of(parsed) for parsed in stored_direct])
        self._note_sources(distinct, outcomes, received_at_ms)
        failure = next((outcome for outcome in outcomes.values() if isinstance(outcome, Exception)), None)
        if failure is not None:
            raise failure
        return _results(events, {event_id: outcome is True for event_id, outcome in outcomes.items()}, direct)

    def _note_sources(
        self, distinct: dict[str, ParsedEvent], outcomes: dict[str, bool | Exception], received_at_ms: int
    ) -> None:
        """A source that sent only retries was still heard from: seen, with no new events."""
        created: Counter[str] = Counter()
        for event_id, parsed in distinct.items():
            created[parsed.event.service_name] += outcomes[event_id] is True
        for source, count in created.items():
            self.sources.seen(source, count, received_at_ms)


def _answer(result: IngestResult) -> IngestAnswer:
    return {"id": result.id, "duplicate": result.duplicate}


def _results(events: Sequence[ParsedEvent], created: dict[str, bool], direct: set[str]) -> list[IngestResult]:
    results = []
    for parsed in events:
        results.append(IngestResult(parsed.id, duplicate=not created[parsed.id], direct=parsed.id in direct))
        created[parsed.id] = False  # any later occurrence in this request is a duplicate
    return results

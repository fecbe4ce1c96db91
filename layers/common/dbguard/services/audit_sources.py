"""The scheduled check of audit sources (an event when one falls silent, another when it resumes)
and the operators' list of them (GET /audit/sources)."""

from __future__ import annotations

from collections.abc import Callable

from dbguard.audit.sources import (
    DAY_MS,
    HOUR_MS,
    SilenceRule,
    SourceLedger,
    SourceRecord,
    SourcesAnswer,
    SourceStatus,
    status_of,
)
from dbguard.metric_catalogue import SILENT_SOURCES
from dbguard.observability import emit, logger
from dbguard.operator_events import (
    AUDIT_SOURCE,
    SOURCE_RESUMED_DETAIL_TYPE,
    SOURCE_SILENT_DETAIL_TYPE,
    OperatorEvents,
)


class AuditSources:
    def __init__(
        self, ledger: SourceLedger, rule: SilenceRule, events: OperatorEvents, clock_ms: Callable[[], int]
    ) -> None:
        self._ledger = ledger
        self._rule = rule
        self._events = events
        self._clock_ms = clock_ms

    def answer(self) -> SourcesAnswer:
        now = self._clock_ms()
        statuses = [status_of(record, self._rule, now) for record in self._records(now, declare=False)]
        statuses.sort(key=lambda status: (not status.silent, status.source))
        return SourcesAnswer(
            sources=statuses, silence_minutes=self._rule.silence_minutes, active_days=self._rule.active_days
        )

    def check(self) -> list[SourceStatus]:
        """Announce each change of silence once (the ledger's conditional write decides which run
        announces it); report how many sources are silent."""
        now = self._clock_ms()
        statuses = []
        for record in self._records(now, declare=True):
            status = status_of(record, self._rule, now)
            statuses.append(status)
            if status.silent and not record.silent:
                if self._ledger.mark(record.source, True, now):
                    self._announce(SOURCE_SILENT_DETAIL_TYPE, record, status, now)
            elif record.silent and not status.silent:
                self._settle(record, status, now)
            stale = [hour for hour in record.events_by_hour if hour < (now - DAY_MS) // HOUR_MS]
            if stale:
                self._ledger.forget_hours(record.source, stale)
        silent = sum(status.silent for status in statuses)
        emit(SILENT_SOURCES, silent)
        logger.info("audit sources checked", extra={"sources": len(statuses), "silent": silent})
        return statuses

    def _settle(self, record: SourceRecord, status: SourceStatus, now: int) -> None:
        """Heard from again: resumed. No longer watched (past SourceActiveDays, no longer expected):
        the silence ends without an event - nobody waits for that source any more."""
        if not self._ledger.mark(record.source, False, now):
            return
        if status.watched:
            self._announce(SOURCE_RESUMED_DETAIL_TYPE, record, status, now)
        else:
            logger.info("silent audit source no longer watched", extra={"source": record.source})

    def _records(self, now: int, declare: bool) -> list[SourceRecord]:
        records = {record.source: record for record in self._ledger.records()}
        for source in sorted(self._rule.expected - records.keys()):
            if declare:
                self._ledger.declare(source, now)
            records[source] = SourceRecord(source, declared_at_ms=now)
        return list(records.values())

    def _announce(self, detail_type: str, record: SourceRecord, status: SourceStatus, now: int) -> None:
        detail = {
            "source": record.source,
            "lastSeen": record.last_seen_ms,
            "silentSince": record.silent_since_ms if detail_type == SOURCE_RESUMED_DETAIL_TYPE else None,
            "silenceMinutes": self._rule.silence_minutes,
            "expected": status.expected,
            "checkedAt": now,
        }
        logger.warning(detail_type, extra=detail)
        self._events.publish(AUDIT_SOURCE, detail_type, detail)

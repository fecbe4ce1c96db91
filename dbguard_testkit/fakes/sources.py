"""The audit sources' last-seen table in memory (dbguard.audit.sources.SourceLedger and
dbguard.audit.ports.SourceActivity, without the once-a-minute batching)."""

from __future__ import annotations

from dataclasses import replace

from dbguard.audit.sources import HOUR_MS, SourceRecord


class InMemorySources:
    def __init__(self) -> None:
        self.by_source: dict[str, SourceRecord] = {}

    def seen(self, source: str, events: int, at_ms: int) -> None:
        record = self.by_source.get(source, SourceRecord(source))
        hours = dict(record.events_by_hour)
        hours[at_ms // HOUR_MS] = hours.get(at_ms // HOUR_MS, 0) + events
        self.by_source[source] = replace(record, last_seen_ms=at_ms, events_by_hour=hours)

    def flush(self) -> None:
        return None

    def records(self) -> list[SourceRecord]:
        return list(self.by_source.values())

    def declare(self, source: str, at_ms: int) -> None:
        record = self.by_source.get(source, SourceRecord(source))
        if record.declared_at_ms is None:
            self.by_source[source] = replace(record, declared_at_ms=at_ms)

    def mark(self, source: str, silent: bool, at_ms: int) -> bool:
        record = self.by_source[source]
        if record.silent == silent:
            return False
        self.by_source[source] = replace(record, silent=silent, silent_since_ms=at_ms if silent else None)
        return True

    def forget_hours(self, source: str, hours: list[int]) -> None:
        record = self.by_source[source]
        kept = {hour: count for hour, count in record.events_by_hour.items() if hour not in hours}
        self.by_source[source] = replace(record, events_by_hour=kept)

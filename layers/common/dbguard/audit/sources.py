"""Audit sources - the QHB servers that send events (REST `serviceName`, or a CSV key's folder) - and
when one has fallen silent (docs/operations.md, "Audit Source Silent").

A source is watched while it has sent something in the last SourceActiveDays, and always when it is
declared up front (ExpectedSources): a declared source that never sends is silent once
SourceSilenceMinutes have passed since dbguard first looked for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
MINUTE_MS = 60_000


@dataclass(frozen=True)
class SourceRecord:
    """A source as its last-seen record holds it."""

    source: str
    last_seen_ms: int | None = None
    events_by_hour: dict[int, int] = field(default_factory=dict)  # hours since the epoch -> new events
    silent: bool = False  # the check announced its silence and has not seen it resume
    silent_since_ms: int | None = None
    declared_at_ms: int | None = None  # when the check first looked for a declared source

    def events_since(self, since_ms: int) -> int:
        first_hour = since_ms // HOUR_MS
        return sum(count for hour, count in self.events_by_hour.items() if hour >= first_hour)


@dataclass(frozen=True)
class SilenceRule:
    silence_minutes: int
    active_days: int
    expected: frozenset[str] = frozenset()

    @classmethod
    def of(cls, silence_minutes: int, active_days: int, expected: Iterable[str]) -> SilenceRule:
        return cls(silence_minutes, active_days, frozenset(expected))

    def watched(self, record: SourceRecord, now_ms: int) -> bool:
        if record.source in self.expected:
            return True
        return record.last_seen_ms is not None and now_ms - record.last_seen_ms <= self.active_days * DAY_MS

    def is_silent(self, record: SourceRecord, now_ms: int) -> bool:
        heard = record.last_seen_ms if record.last_seen_ms is not None else record.declared_at_ms
        if heard is None or not self.watched(record, now_ms):
            return False
        return now_ms - heard > self.silence_minutes * MINUTE_MS


class SourceStatus(BaseModel):
    """One source as GET /audit/sources answers it."""

    model_config = ConfigDict(
        populate_by_name=True, frozen=True, defer_build=True
    )  # built by audit_sources only

    source: str = Field(description="the QHB server: the events' serviceName, or the CSV files' folder")
    last_seen: int | None = Field(
        alias="lastSeen", description="when dbguard last received its events, ms since the epoch; null: never"
    )
    events_last_24h: int = Field(
        alias="eventsLast24h", description="new events received in the last 24 hours (whole hours)"
    )
    silent: bool = Field(description="watched, and nothing received for SourceSilenceMinutes")
    expected: bool = Field(description="declared in ExpectedSources")
    watched: bool = Field(description="expected, or sent something in the last SourceActiveDays")


class SourcesAnswer(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True, frozen=True, defer_build=True
    )  # built by audit_sources only

    sources: list[SourceStatus] = Field(description="silent sources first, then by name")
    silence_minutes: int = Field(alias="silenceMinutes", description="SourceSilenceMinutes")
    active_days: int = Field(alias="activeDays", description="SourceActiveDays")


def status_of(record: SourceRecord, rule: SilenceRule, now_ms: int) -> SourceStatus:
    return SourceStatus(
        source=record.source,
        last_seen=record.last_seen_ms,
        events_last_24h=record.events_since(now_ms - DAY_MS),
        silent=rule.is_silent(record, now_ms),
        expected=record.source in rule.expected,
        watched=rule.watched(record, now_ms),
    )


class SourceLedger(Protocol):
    def records(self) -> list[SourceRecord]: ...

    def declare(self, source: str, at_ms: int) -> None:
        """Start looking for an expected source (keeps the first time it was declared)."""
        ...

    def mark(self, source: str, silent: bool, at_ms: int) -> bool:
        """Record that the source went silent (or resumed); True only for the call that changed it."""
        ...

    def forget_hours(self, source: str, hours: list[int]) -> None:
        """Drop hourly counts that fell out of the last 24 hours."""
        ...

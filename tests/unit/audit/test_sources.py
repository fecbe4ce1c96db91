"""Silent sources on a fake clock: silence announced once, resumption once, expected sources that
never send, sources that age out; the hourly counts of the last 24 hours; GET /audit/sources' order."""

from __future__ import annotations

import pytest

from dbguard.audit.sources import DAY_MS, HOUR_MS, MINUTE_MS, SilenceRule
from dbguard.services.audit_sources import AuditSources
from dbguard_testkit.fakes.sources import InMemorySources

START = 1_796_515_200_000


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        return self.now

    def advance(self, milliseconds: int) -> None:
        self.now += milliseconds


class Events:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, dict]] = []

    def publish(self, source: str, detail_type: str, detail: dict) -> None:
        self.published.append((source, detail_type, detail))

    def types(self) -> list[tuple[str, str]]:
        return [(detail["source"], detail_type) for _, detail_type, detail in self.published]


@pytest.fixture
def world():
    clock, ledger, events = Clock(), InMemorySources(), Events()
    sources = AuditSources(ledger, SilenceRule.of(60, 7, ["qhb-expected"]), events, clock)
    return clock, ledger, events, sources


def test_silence_is_announced_once_and_resumption_once(world):
    clock, ledger, events, sources = world
    ledger.seen("qhb-01", 5, clock())
    sources.check()
    clock.advance(59 * MINUTE_MS)
    sources.check()
    assert ("qhb-01", "Audit Source Silent") not in events.types()
    clock.advance(2 * MINUTE_MS)
    sources.check()
    sources.check()  # the next run: already announced
    assert events.types().count(("qhb-01", "Audit Source Silent")) == 1
    assert all(source == "dbguard.audit" for source, _, _ in events.published)
    clock.advance(10 * MINUTE_MS)
    ledger.seen("qhb-01", 1, clock())
    sources.check()
    sources.check()
    assert events.types().count(("qhb-01", "Audit Source Resumed")) == 1


def test_an_expected_source_that_never_sends_is_silent_after_the_silence(world):
    clock, _, events, sources = world
    sources.check()
    assert events.types() == []
    clock.advance(61 * MINUTE_MS)
    statuses = {status.source: status for status in sources.check()}
    assert statuses["qhb-expected"].silent
    assert statuses["qhb-expected"].expected
    assert events.types() == [("qhb-expected", "Audit Source Silent")]


def test_a_source_past_the_active_days_is_forgotten_without_an_event(world):
    clock, ledger, events, sources = world
    ledger.seen("qhb-old", 1, clock())
    clock.advance(2 * HOUR_MS)
    sources.check()
    clock.advance(8 * DAY_MS)
    (status,) = [s for s in sources.check() if s.source == "qhb-old"]
    assert (status.silent, status.watched) == (False, False)
    assert ("qhb-old", "Audit Source Resumed") not in events.types()
    assert ledger.by_source["qhb-old"].silent is False


def test_the_answer_counts_the_last_24_hours_and_lists_silent_sources_first(world):
    clock, ledger, _, sources = world
    ledger.seen("qhb-b", 7, clock())
    clock.advance(23 * HOUR_MS)
    ledger.seen("qhb-b", 3, clock())
    ledger.seen("qhb-a", 2, clock())
    clock.advance(2 * HOUR_MS)
    answer = sources.answer()
    assert [status.source for status in answer.sources] == ["qhb-a", "qhb-b", "qhb-expected"]
    assert [s.events_last_24h for s in answer.sources[:2]] == [2, 3]
    assert [s.silent for s in answer.sources[:2]] == [True, True]
    sources.check()  # drops the hour that fell out of the window
    assert sum(ledger.by_source["qhb-b"].events_by_hour.values()) == 3

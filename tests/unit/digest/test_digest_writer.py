"""The digest run's order and bookkeeping, with storage and signing in memory (moto-backed runs:
tests/integration/digest)."""

from __future__ import annotations

from dbguard.digest.document import read_digest
from dbguard.digest.hours import HOUR_MS, label
from dbguard.services.audit_digest import DigestWriter

HOUR = 490_000
NOW = (HOUR + 1) * HOUR_MS + 300_001  # HOUR has just closed (margin 300 s)


class Memory:
    def __init__(self) -> None:
        self.objects: dict[int, bytes] = {}
        self.items: dict[int, list[dict]] = {}

    def latest(self):
        return max(self.objects.items()) if self.objects else None

    def read(self, hour: int):
        return self.objects.get(hour)

    def create(self, hour: int, document: bytes) -> bool:
        return self.objects.setdefault(hour, document) is document

    def items_of(self, hour: int):
        return iter(self.items.get(hour, []))


class Signer:
    key_id = "k"

    def sign(self, message: bytes) -> bytes:
        return b"s" + message

    def key_state(self) -> str:
        return "Enabled"


def writer(memory: Memory) -> DigestWriter:
    class Hours:
        items = staticmethod(memory.items_of)

    return DigestWriter(Hours(), memory, Signer(), "t", 300)  # type: ignore[arg-type]


def test_the_first_run_starts_the_chain_at_the_last_closed_hour_and_later_runs_fill_every_hour():
    memory = Memory()
    assert writer(memory).run(NOW, lambda: 10**9).written == [label(HOUR)]
    memory.items[HOUR + 2] = [{"id": {"S": "a" * 32}}]
    run = writer(memory).run(NOW + 2 * HOUR_MS, lambda: 10**9)
    assert (run.written, run.events) == ([label(HOUR + 1), label(HOUR + 2)], 1)
    chain = [read_digest(memory.objects[hour]) for hour in (HOUR, HOUR + 1, HOUR + 2)]
    assert [digest.previous and digest.previous.hour for digest in chain] == [None, HOUR, HOUR + 1]


def test_a_run_short_of_time_leaves_the_hours_to_the_next_and_says_how_many():
    memory = Memory()
    writer(memory).run(NOW, lambda: 10**9)
    run = writer(memory).run(NOW + 3 * HOUR_MS, lambda: 60_000)
    assert (run.written, run.behind) == ([], 3)


def test_an_hour_already_written_is_kept_and_the_chain_goes_on_from_it():
    memory = Memory()
    writer(memory).run(NOW, lambda: 10**9)
    stored = memory.objects[HOUR]
    run = writer(memory).run(NOW, lambda: 10**9)  # nothing new closed
    assert (run.written, memory.objects[HOUR]) == ([], stored)
    memory.items[HOUR] = [{"id": {"S": "b" * 32}}]  # stored late into a written hour (by hand)
    again = writer(memory)
    link = again.write(HOUR, None, run)
    assert run.found == [label(HOUR)]
    assert memory.objects[HOUR] == stored  # the first digest stands
    assert link.hour == HOUR

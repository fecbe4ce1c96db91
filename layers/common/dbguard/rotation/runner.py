"""Rotating many databases: what is due, most urgent first, a bounded number at a time, and no new
work started once the Lambda deadline is near (what is left is reported and done next run)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from dbguard.registry.models import RegistryEntry
from dbguard.registry.ports import RotationRegistry
from dbguard.rotation.rotator import Outcome, RotationResult, Rotator


@dataclass
class RunReport:
    results: list[RotationResult] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # not started: the deadline was near
    not_due: int = 0

    def count(self, outcome: Outcome) -> int:
        return sum(result.status is outcome for result in self.results)

    @property
    def tokens_expired(self) -> int:
        return sum(result.tokens_expired for result in self.results)


class RotationRunner:
    def __init__(self, registry: RotationRegistry, rotator: Rotator, databases_at_once: int) -> None:
        self._registry = registry
        self._rotator = rotator
        self.databases_at_once = databases_at_once

    def rotate_due(self, expiring_before: int, has_time: Callable[[], bool]) -> RunReport:
        due = list(self._registry.due(expiring_before))
        report = self._rotate_all(due, has_time, force=False)
        report.not_due = self._registry.count_active() - len(due)
        return report

    def rotate_named(
        self, names: Iterable[str] | None, has_time: Callable[[], bool], *, force: bool = False
    ) -> RunReport:
        """The named databases (every active one for None), whatever their expiry."""
        if names is None:
            return self._rotate_all(list(self._registry.due()), has_time, force=force)
        entries, missing = [], []
        for name in dict.fromkeys(names):  # each database once, in the order asked
            entry = self._registry.by_name(name)
            if entry is None or not entry.is_active:
                missing.append(RotationResult(name, Outcome.NOT_FOUND, "no active database of that name"))
            else:
                entries.append(entry)
        report = self._rotate_all(entries, has_time, force=force)
        report.results.extend(missing)
        return report

    def _rotate_all(
        self, entries: list[RegistryEntry], has_time: Callable[[], bool], *, force: bool
    ) -> RunReport:
        """Results in the order the databases were started (most urgent first)."""
        report = RunReport()
        started: list[Future[RotationResult]] = []
        with ThreadPoolExecutor(max_workers=self.databases_at_once, thread_name_prefix="rotate") as pool:
            for position, entry in enumerate(entries):
                running = [future for future in started if not future.done()]
                if len(running) >= self.databases_at_once:
                    wait(running, return_when=FIRST_COMPLETED)
                if not has_time():
                    report.deferred = [later.name for later in entries[position:]]
                    break
                started.append(pool.submit(self._rotator.rotate, entry, force=force))
        report.results = [future.result() for future in started]
        return report

"""Rotating many databases: what is due, most urgent first, a bounded number at a time, and no new
work started once the Lambda deadline is near (what is left is reported and done next run); each
run's summary and metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from dbguard.metric_catalogue import (
    ROTATION_DEFERRED,
    ROTATION_FAILED,
    ROTATION_RUN_DURATION,
    ROTATION_SKIPPED,
    TOKEN_SECONDS_LEFT,
    TOKENS_EXPIRED,
    TOKENS_ROTATED,
)
from dbguard.observability import emit, logger
from dbguard.registry.models import RegistryEntry
from dbguard.registry.ports import RotationRegistry
from dbguard.services.rotator import Outcome, RotationResult

if TYPE_CHECKING:  # built only for operators' invokes (cold start)
    from dbguard.rotation.on_demand import OnDemandRotation


class RotatesADatabase(Protocol):
    """One database's rotation, never raising (services/managed_rotation.py, services/rotator.py)."""

    def rotate(self, entry: RegistryEntry, *, force: bool = False) -> RotationResult: ...


@dataclass
class RunReport:
    results: list[RotationResult] = field(default_factory=list)
    # not started: the deadline was near, or JumpServer refused dbguard itself (`refusal`)
    deferred: list[str] = field(default_factory=list)
    not_due: int = 0
    refusal: str | None = None

    def count(self, outcome: Outcome) -> int:
        return sum(result.status is outcome for result in self.results)

    @property
    def tokens_expired(self) -> int:
        return sum(result.tokens_expired for result in self.results)


class RotationRunner:
    def __init__(
        self,
        registry: RotationRegistry,
        rotator: RotatesADatabase,
        databases_at_once: int,
        *,
        window_seconds: int = 7 * 86400,
        deadline_margin_seconds: int = 30,
    ) -> None:
        self._registry = registry
        self._rotator = rotator
        self.databases_at_once = databases_at_once
        self._window_seconds = window_seconds
        self._deadline_margin_ms = deadline_margin_seconds * 1000

    def run_due(self, remaining_ms: Callable[[], int]) -> dict[str, Any]:
        """A scheduled run: what expires within the rotation window, most urgent first; its summary."""
        started = time.monotonic()
        expiring_before = int(time.time()) + self._window_seconds
        summary = _summarise(self.rotate_due(expiring_before, self._has_time(remaining_ms)), started)
        self._emit_soonest_expiry()
        return summary

    def _emit_soonest_expiry(self) -> None:
        """Seconds left on the token closest to expiry, once the run is done (TokenExpiryNearAlarm)."""
        expiries = (entry.current_token_expires_at for entry in self._registry.due())
        soonest = next((expiry for expiry in expiries if expiry is not None), None)
        if soonest is not None:  # no token at all: nothing can expire
            emit(TOKEN_SECONDS_LEFT, soonest - time.time())

    def run_named(self, request: OnDemandRotation, remaining_ms: Callable[[], int]) -> dict[str, Any]:
        """An operator's on-demand run; its summary with one result per database asked for."""
        started = time.monotonic()
        report = self.rotate_named(request.names, self._has_time(remaining_ms), force=request.force)
        return _summarise(report, started)

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

    def _has_time(self, remaining_ms: Callable[[], int]) -> Callable[[], bool]:
        """Whether a database may still be started: not within the deadline margin of the timeout."""
        return lambda: remaining_ms() > self._deadline_margin_ms

    def _rotate_all(
        self, entries: list[RegistryEntry], has_time: Callable[[], bool], *, force: bool
    ) -> RunReport:
        """Results in the order the databases were started (most urgent first). None is started once
        the deadline is near, or once JumpServer refused dbguard itself: every other database would
        meet the same refusal, spending JumpServer's budget on nothing (the next run tries again)."""
        report = RunReport()
        started: list[Future[RotationResult]] = []
        running: set[Future[RotationResult]] = set()
        with ThreadPoolExecutor(max_workers=self.databases_at_once, thread_name_prefix="rotate") as pool:
            for position, entry in enumerate(entries):
                if len(running) >= self.databases_at_once:
                    wait(running, return_when=FIRST_COMPLETED)
                done = {future for future in running if future.done()}
                running -= done
                report.refusal = _refusal(done)
                if report.refusal is not None or not has_time():
                    report.deferred = [later.name for later in entries[position:]]
                    break
                future = pool.submit(self._rotator.rotate, entry, force=force)
                started.append(future)
                running.add(future)
        report.results = [future.result() for future in started]
        return report


def _refusal(done: set[Future[RotationResult]]) -> str | None:
    """Why JumpServer refused dbguard itself, if one of these rotations says it did."""
    results = [future.result() for future in done if future.exception() is None]  # a crash shows at the end
    refused = [result for result in results if result.service_refused]
    return (refused[0].error or "JumpServer refused dbguard") if refused else None


def _summarise(report: RunReport, started: float) -> dict[str, Any]:
    counts = {outcome.value: report.count(outcome) for outcome in Outcome}
    emit(TOKENS_ROTATED, counts["rotated"])
    emit(ROTATION_FAILED, counts["failed"])
    emit(ROTATION_SKIPPED, report.not_due)
    emit(ROTATION_DEFERRED, len(report.deferred))
    emit(TOKENS_EXPIRED, report.tokens_expired)
    duration_ms = (time.monotonic() - started) * 1000
    emit(ROTATION_RUN_DURATION, duration_ms)
    summary: dict[str, Any] = {**counts, "not_due": report.not_due, "deferred": report.deferred}
    if report.refusal is not None:
        summary["stopped"] = f"JumpServer refused dbguard, no further database started: {report.refusal}"
        logger.error(
            "rotation run stopped", extra={"reason": report.refusal, "deferred": len(report.deferred)}
        )
    logger.info("rotation run finished", extra=summary)
    return {**summary, "results": [result.as_dict() for result in report.results]}

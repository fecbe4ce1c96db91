"""RotationRunner on in-memory fakes: what is due, most urgent first, no new work once the deadline
is near, every database once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import SimpleNamespace

from dbguard.registry.models import EntryStatus, RotationStateChange
from dbguard.services import rotation_runner
from dbguard.services.rotation_runner import RotationRunner
from dbguard.services.rotator import Outcome
from dbguard_testkit.fakes.tokens import REUSABLE_SECONDS
from tests.unit.rotation.conftest import Rig

DAY = 86400


def runner(rig: Rig, *, at_once: int = 4, min_interval: int = 0) -> RotationRunner:
    return RotationRunner(rig.registry, rig.rotator(min_interval=min_interval), at_once)


def always() -> bool:
    return True


def for_(starts: int) -> Callable[[], bool]:
    """Time for `starts` databases, then the deadline is near."""
    left = iter([True] * starts)
    return lambda: next(left, False)


def databases_expiring_in(rig: Rig, days: dict[str, int]) -> None:
    """Databases with a first secret whose token expires `days` from now."""
    for name, expires_in in days.items():
        expires_at = int(rig.clock.timestamp()) + expires_in * DAY
        cmdb_id = rig.rotated(name, times=1).cmdb_id
        rig.registry.save_rotation_state(cmdb_id, RotationStateChange(current_token_expires_at=expires_at))


def test_due_databases_are_rotated_soonest_expiry_first(rig):
    databases_expiring_in(rig, {"later": 20, "soon": 2, "sooner": 1, "fine": 29})
    before = int(rig.clock.timestamp()) + 7 * DAY

    report = runner(rig).rotate_due(before, always)

    assert [result.name for result in report.results] == ["sooner", "soon"]
    assert report.count(Outcome.ROTATED) == 2
    assert report.not_due == 2
    assert report.tokens_expired == 0  # each had only its first token
    assert rig.entry("soon").current_token_expires_at == int(rig.clock.timestamp()) + REUSABLE_SECONDS


def test_work_is_not_started_once_the_deadline_is_near(rig):
    databases_expiring_in(rig, {"a": 1, "b": 2, "c": 3, "d": 4})

    report = runner(rig, at_once=1).rotate_due(int(rig.clock.timestamp()) + 7 * DAY, for_(2))

    assert [result.name for result in report.results] == ["a", "b"]
    assert report.deferred == ["c", "d"]
    assert rig.entry("c").previous_token_id is None  # untouched


def test_more_databases_than_workers_are_all_rotated_in_the_order_started(rig):
    names = [f"db{index}" for index in range(7)]
    databases_expiring_in(rig, {name: index + 1 for index, name in enumerate(names)})

    report = runner(rig, at_once=2).rotate_named(None, always)

    assert [result.name for result in report.results] == names
    assert report.count(Outcome.ROTATED) == 7


def test_named_databases_are_rotated_once_each_and_the_unknown_reported(rig):
    for name in ("a", "b"):
        rig.rotated(name, times=1)
    retired = rig.rotated("retired", times=1)
    rig.registry.save_cmdb_state(retired.model_copy(update={"status": EntryStatus.RETIRED, "version": 2}))

    report = runner(rig).rotate_named(["b", "nobody", "a", "b", "retired"], always)

    assert [(result.name, result.status) for result in report.results] == [
        ("b", Outcome.ROTATED),
        ("a", Outcome.ROTATED),
        ("nobody", Outcome.NOT_FOUND),
        ("retired", Outcome.NOT_FOUND),
    ]


def test_force_reaches_every_rotation_asked_for(rig):
    for name in ("a", "b"):
        rig.rotated(name, times=1)
    within_the_cache = runner(rig, min_interval=3600)

    refused = within_the_cache.rotate_named(["a"], always)
    forced = within_the_cache.rotate_named(["a"], always, force=True)
    every_one = within_the_cache.rotate_named(None, always, force=True)

    assert refused.count(Outcome.TOO_SOON) == 1
    assert forced.count(Outcome.ROTATED) == 1
    assert every_one.count(Outcome.ROTATED) == 2


def test_as_many_databases_as_asked_are_in_progress_at_once(rig):
    names = [f"db{index}" for index in range(6)]
    databases_expiring_in(rig, {name: index + 1 for index, name in enumerate(names)})
    together = threading.Barrier(3, timeout=10)  # broken, failing the rotations, unless 3 meet
    rotator = rig.rotator(min_interval=0)

    def rotate_with_two_others(entry, *, force):
        together.wait()
        return rotator.rotate(entry, force=force)

    rotator_meeting = SimpleNamespace(rotate=rotate_with_two_others)
    report = RotationRunner(rig.registry, rotator_meeting, 3).rotate_named(None, always)

    assert report.count(Outcome.ROTATED) == 6


def test_a_scheduled_run_reports_the_seconds_left_on_the_token_closest_to_expiry(rig, monkeypatch):
    """TokenSecondsLeft, after the run: here nothing could start, so the soonest token is still there."""
    emitted: list[tuple[str, float]] = []
    monkeypatch.setattr(rotation_runner, "emit", lambda metric, value: emitted.append((metric.name, value)))
    rig.register("no-token-yet")  # first in byDue, and expires nothing
    for name, days in {"soon": 2, "later": 20}.items():
        expires_at = int(time.time()) + days * DAY
        cmdb_id = rig.rotated(name, times=1).cmdb_id
        rig.registry.save_rotation_state(cmdb_id, RotationStateChange(current_token_expires_at=expires_at))

    summary = runner(rig).run_due(lambda: 0)

    assert summary["deferred"] == ["no-token-yet", "soon"]
    [left] = [value for name, value in emitted if name == "TokenSecondsLeft"]
    assert 2 * DAY - 5 < left <= 2 * DAY


def test_no_token_no_seconds_left(rig, monkeypatch):
    emitted: list[str] = []
    monkeypatch.setattr(rotation_runner, "emit", lambda metric, value: emitted.append(metric.name))
    rig.register("no-token-yet")
    runner(rig).run_due(lambda: 0)
    assert "TokenSecondsLeft" not in emitted
    assert "RotationDeferred" in emitted

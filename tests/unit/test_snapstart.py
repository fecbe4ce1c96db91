"""What a SnapStart restore renews (dbguard/snapstart.py), run the way Lambda's Python runtime runs
it: the hooks registered in snapshot_restore_py, called in order after each restore."""

import random
import sys

import pytest
import snapshot_restore_py

from dbguard.snapstart import register_restore_hooks, renew_after_restore


def restore(snapshot: object) -> float:
    """An environment resumed from `snapshot` (the random module's state at init), then its first draw."""
    random.setstate(snapshot)
    for hook, args, kwargs in snapshot_restore_py.get_after_restore():
        hook(*args, **kwargs)
    return random.random()


@pytest.fixture(autouse=True)
def fresh_hooks(monkeypatch):
    """An environment's own hook registry (the library keeps one per process)."""
    monkeypatch.setattr(snapshot_restore_py, "_after_restore_registry", [])


@pytest.fixture(autouse=True)
def keep_the_random_state():
    state = random.getstate()
    yield
    random.setstate(state)


def test_environments_restored_from_one_snapshot_draw_their_own_numbers():
    register_restore_hooks()
    snapshot = random.getstate()
    assert len({restore(snapshot) for _ in range(5)}) == 5


def test_without_the_hook_they_would_draw_the_same():
    snapshot = random.getstate()
    random.setstate(snapshot)
    first = random.random()
    random.setstate(snapshot)
    assert random.random() == first  # what botocore's retry jitter would share across environments


def test_registering_again_adds_no_second_hook():
    register_restore_hooks()
    register_restore_hooks()
    assert [hook for hook, _, _ in snapshot_restore_py.get_after_restore()] == [renew_after_restore]


def test_outside_lambda_without_the_hook_library_nothing_is_registered(monkeypatch):
    with monkeypatch.context() as without_library:
        without_library.setitem(sys.modules, "snapshot_restore_py", None)  # importing it raises ImportError
        register_restore_hooks()  # must not raise
    assert snapshot_restore_py.get_after_restore() == []

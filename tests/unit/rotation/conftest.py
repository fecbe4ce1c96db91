"""A rotation wired to in-memory fakes (dbguard_testkit/fakes), with the invariant the rotation keeps:
every token a label of the secret refers to is valid; after a clean run no other one is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dbguard.jumpserver import JumpServerAccount
from dbguard.registry.models import EntryStatus, RegistryEntry
from dbguard.services.rotator import Rotator
from dbguard_testkit.fakes import FakeClock, FakeConnectionTokens, FakeRegistry, FakeSecrets
from dbguard_testkit.fakes.secrets import shape
from dbguard_testkit.fakes.tokens import ONE_TIME_SECONDS
from dbguard_testkit.faults import FaultPlan, Faulty

LEASE_SECONDS = 900
DATABASE = "billing-qhb-01"


class CallLog:
    """A plan for dbguard_testkit/faults.py Faulty that fails nothing and notes each call's name."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.names.append(method.__name__)
        return method(*args, **kwargs)


class FailOn(FaultPlan):
    """Fails the first call of each method named, as `mode` says (dbguard_testkit/faults.py MODES)."""

    def __init__(self, *names: str, mode: str = "before") -> None:
        super().__init__(None, mode)
        self.names = list(names)

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        failing = method.__name__ in self.names
        if failing:
            self.names.remove(method.__name__)
        self.fail_at = self.calls + 1 if failing else None
        return super().call(method, *args, **kwargs)


class Rig:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.tokens = FakeConnectionTokens(self.clock)
        self.registry = FakeRegistry()
        self.secrets = FakeSecrets()

    def rotator(self, plan: FaultPlan | CallLog | None = None, *, min_interval: int = 0) -> Rotator:
        """A rotator on the fakes; with `plan`, every call to them goes through it."""
        parts: list[Any] = [self.tokens, self.secrets, self.registry]
        if plan is not None:
            parts = [Faulty(part, plan) for part in parts]
        tokens, secrets, registry = parts
        return Rotator(
            tokens, secrets, registry, shape,
            lease_seconds=LEASE_SECONDS, min_interval_seconds=min_interval, clock=self.clock,
        )  # fmt: skip

    def register(self, name: str = DATABASE, status: EntryStatus = EntryStatus.ACTIVE) -> RegistryEntry:
        """What cmdb_sync records before the database's first secret."""
        entry = RegistryEntry(
            cmdb_id=f"cmdb-{name}", name=name, status=status, version=1, engine="qhb", host="10.1.2.3",
            port=5432, database="billing", environment="prod", asset_id=f"asset-{name}",
            account=JumpServerAccount(id=f"acc-{name}", name="dbguard", username="app"),
            protocol="postgresql",
        )  # fmt: skip
        self.registry.save_cmdb_state(entry)
        self.registry.confirm_version(entry.cmdb_id, 1)
        return self.entry(name)

    def rotated(self, name: str = DATABASE, times: int = 2) -> RegistryEntry:
        """A database with its first secret and `times` - 1 rotations since (AWSPREVIOUS from 2 on)."""
        self.register(name)
        for _ in range(times):
            assert self.rotator().rotate(self.entry(name)).status == "rotated"
        return self.entry(name)

    def entry(self, name: str = DATABASE) -> RegistryEntry:
        found = self.registry.by_name(name)
        assert found is not None
        return found

    def labelled(self, name: str = DATABASE) -> dict[str, str]:
        """label -> token id of the database's secret."""
        return self.secrets.labelled(self.secrets.name_of(name))

    def live(self, name: str = DATABASE) -> set[str]:
        return self.tokens.live_tokens(f"asset-{name}")

    def assert_labelled_tokens_valid(self, context: str, name: str = DATABASE) -> None:
        dead = {label: token for label, token in self.labelled(name).items() if token not in self.live(name)}
        assert not dead, f"{context}: {dead} expired while its secret still hands it out"

    def assert_only_labelled_tokens_valid(self, context: str, name: str = DATABASE) -> None:
        self.clock.advance(ONE_TIME_SECONDS + 1)  # one-time tokens never made reusable die by themselves
        self.assert_labelled_tokens_valid(context, name)
        extra = self.live(name) - set(self.labelled(name).values())
        assert not extra, f"{context}: tokens {extra} are valid but no secret version holds them"


@pytest.fixture
def rig() -> Rig:
    return Rig()

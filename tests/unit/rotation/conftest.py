"""A rotation wired to in-memory fakes (dbguard_testkit/fakes), with the invariant the rotation keeps:
every token a label of the secret refers to is valid; after a clean run no other one is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dbguard.jumpserver import JumpServerAccount
from dbguard.registry.models import EntryStatus, RegistryEntry
from dbguard.rotation.steps import RotationStep
from dbguard.secrets.ports import RotationConfig
from dbguard.services.managed_rotation import ManagedRotation
from dbguard.services.rotator import Rotator
from dbguard.services.secrets_manager_rotation import SecretsManagerRotation
from dbguard_testkit.fakes import FakeClock, FakeConnectionTokens, FakeRegistry, FakeSecrets
from dbguard_testkit.fakes.secrets import shape
from dbguard_testkit.fakes.tokens import ONE_TIME_SECONDS
from dbguard_testkit.faults import FaultPlan, Faulty

LEASE_SECONDS = 900
DATABASE = "billing-qhb-01"
ROTATION = RotationConfig("arn:aws:lambda:eu-central-1:123456789012:function:dbguard-token-rotation", 26)


class Events:
    """Operator events, as published (operator_events.py)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str, dict[str, Any]]] = []

    def publish(self, source: str, detail_type: str, detail: dict[str, Any]) -> None:
        self.published.append((source, detail_type, detail))

    def types(self) -> list[str]:
        return [detail_type for _, detail_type, _ in self.published]


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
        self.secrets.clock = self.clock.timestamp
        self.events = Events()

    def rotator(self, plan: FaultPlan | CallLog | None = None, *, min_interval: int = 0) -> Rotator:
        """A rotator on the fakes; with `plan`, every call to them goes through it."""
        parts: list[Any] = [self.tokens, self.secrets, self.registry]
        if plan is not None:
            parts = [Faulty(part, plan) for part in parts]
        tokens, secrets, registry = parts
        return Rotator(
            tokens, secrets, registry, shape,
            lease_seconds=LEASE_SECONDS, min_interval_seconds=min_interval, clock=self.clock,
            events=self.events,
        )  # fmt: skip

    def managed(self, plan: FaultPlan | None = None, *, min_interval: int = 0) -> ManagedRotation:
        """A rotation through Secrets Manager: the run asks, the fake Secrets Manager runs the steps
        through the function's Secrets Manager protocol; with `plan`, every call of either goes through
        it (the run and the steps are two invocations of one function)."""
        rotator = self.rotator(plan, min_interval=min_interval)
        steps = SecretsManagerRotation(rotator, self.registry, self.secrets)
        self.secrets.rotation_function = lambda event: steps.run(RotationStep.model_validate(event))
        secrets, registry = (Faulty(part, plan) for part in (self.secrets, self.registry)) if plan else (
            self.secrets, self.registry,
        )  # fmt: skip
        return ManagedRotation(
            rotator,
            secrets,
            registry,
            self.tokens,
            ROTATION,
            completion_seconds=5,
            settle_after_seconds=0,
            sleep=self.clock.advance,
        )

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

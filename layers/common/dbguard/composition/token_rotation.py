"""token_rotation's object graph, built once per cold start from its settings.

The function answers four callers (the schedule, an operator's invoke, Secrets Manager's rotation
steps, the stack's settings check); the last must be answered even when the graph cannot be built,
so a cold start keeps what it built or the error that stopped it (ColdStart)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Self

from pydantic import Field, model_validator

from dbguard.adapters import aws
from dbguard.adapters.cloudformation import CloudFormationAnswers
from dbguard.adapters.jumpserver.client import JumpServerClient
from dbguard.adapters.jumpserver.transport import RequestTally
from dbguard.adapters.registry_store import Registry
from dbguard.adapters.secrets_store import DatabaseSecrets
from dbguard.composition.jumpserver import JumpServerSettings, build_jumpserver
from dbguard.composition.rotator import RegistrySettings, build_rotator
from dbguard.observability import logger
from dbguard.registry.ports import RotationRegistry
from dbguard.rotation.policy import RotationPolicy
from dbguard.secrets.ports import DatabaseSecretStore
from dbguard.services.managed_rotation import ManagedRotation
from dbguard.services.rotation_runner import RotationRunner
from dbguard.services.secrets_manager_rotation import SecretsManagerRotation
from dbguard.services.settings_check import SettingsCheck, StartupFailed
from dbguard.services.token_status import TokenStatus
from dbguard.snapstart import register_restore_hooks


class TokenRotationSettings(JumpServerSettings, RegistrySettings):
    rotation_schedule: str = Field(default="rate(1 hour)", alias="ROTATION_SCHEDULE")
    rotation_window_seconds: int = Field(default=7 * 86400, ge=60, alias="ROTATION_WINDOW_SECONDS")
    token_lifetime_seconds: int = Field(default=30 * 86400, ge=300, alias="JUMPSERVER_TOKEN_LIFETIME_SECONDS")
    rotation_concurrency: int = Field(default=8, ge=1, le=64, alias="ROTATION_CONCURRENCY")
    rotation_deadline_margin_seconds: int = Field(
        default=30, ge=5, le=600, alias="ROTATION_DEADLINE_MARGIN_SECONDS"
    )
    # how long a run waits for a rotation Secrets Manager runs (its steps normally take seconds); less
    # than the deadline margin, so what is in progress when the margin begins ends before the timeout
    rotation_step_wait_seconds: int = Field(default=25, ge=4, le=595, alias="ROTATION_STEP_WAIT_SECONDS")

    @model_validator(mode="after")
    def _waits_end_within_the_margin(self) -> Self:
        if self.rotation_step_wait_seconds >= self.rotation_deadline_margin_seconds:
            raise ValueError(
                "ROTATION_STEP_WAIT_SECONDS must be shorter than ROTATION_DEADLINE_MARGIN_SECONDS: a run "
                "waiting on Secrets Manager's steps when the margin begins must finish before the timeout"
            )
        return self

    def policy(self) -> RotationPolicy:
        return RotationPolicy(
            schedule=self.rotation_schedule,
            window_seconds=self.rotation_window_seconds,
            token_lifetime_seconds=self.token_lifetime_seconds,
            consumer_cache_seconds=self.consumer_cache_seconds,
            secrets_manager_days=self.secrets_manager_rotation_days,
        )


@dataclass(frozen=True)
class TokenRotation:
    runner: RotationRunner
    secrets_manager_rotation: SecretsManagerRotation
    settings_check: SettingsCheck
    token_status: TokenStatus
    jumpserver_requests: RequestTally  # reported once per invocation


@dataclass(frozen=True)
class RotationAdapters:
    """What token_rotation talks to."""

    registry: RotationRegistry
    secrets: DatabaseSecretStore
    jumpserver: JumpServerClient


def compose(
    environ: Mapping[str, str] | None = None,
    *,
    around: Callable[[RotationAdapters], RotationAdapters] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> TokenRotation:
    """The function's graph from its environment. The benchmark and the chaos run build theirs with it
    too: `environ` another environment, `around` the adapters wrapped or replaced (faults, a model of
    DynamoDB), `clock` another clock."""
    register_restore_hooks()  # what environments restored from one SnapStart snapshot would share
    settings = TokenRotationSettings.load(environ)
    secretsmanager = aws.client_on_first_use("secretsmanager")  # the registry's client is made at init
    jumpserver = build_jumpserver(settings, secretsmanager, max_in_flight=settings.rotation_concurrency)
    adapters = RotationAdapters(
        registry=Registry.create(settings.registry_table_name),
        secrets=DatabaseSecrets(secretsmanager, settings.secrets_prefix),
        jumpserver=jumpserver,
    )
    if around is not None:
        adapters = around(adapters)
    rotator = build_rotator(settings, adapters.jumpserver, adapters.registry, adapters.secrets, clock)
    wait = settings.rotation_step_wait_seconds
    managed = ManagedRotation(
        rotator, adapters.secrets, adapters.registry, adapters.jumpserver, settings.rotation,
        completion_seconds=wait, settle_after_seconds=min(10, wait / 4),
    )  # fmt: skip
    return TokenRotation(
        runner=RotationRunner(
            adapters.registry,
            managed,
            # each rotation in progress is one chain of step invocations sending one request at a time:
            # JumpServer sees at most this many requests of token_rotation's at once
            settings.rotation_concurrency,
            window_seconds=settings.rotation_window_seconds,
            deadline_margin_seconds=settings.rotation_deadline_margin_seconds,
        ),
        secrets_manager_rotation=SecretsManagerRotation(rotator, adapters.registry, adapters.secrets),
        settings_check=SettingsCheck(
            CloudFormationAnswers(), settings.policy(), adapters.jumpserver, engines=settings.engines
        ),
        token_status=TokenStatus(adapters.registry, adapters.secrets, adapters.jumpserver),
        jumpserver_requests=jumpserver.requests,
    )


@dataclass(frozen=True)
class ColdStart:
    """The graph a cold start built, or the error that stopped it."""

    outcome: TokenRotation | Exception

    @classmethod
    def attempt(cls) -> ColdStart:
        try:
            rotation = compose()
        except Exception as error:
            logger.exception("token_rotation cannot start")
            return cls(error)
        # the stack refuses these settings; a hand-edited environment may not
        for problem in rotation.settings_check.policy_problems():
            logger.error("rotation settings cannot keep a valid token in place", extra={"problem": problem})
        return cls(rotation)

    def parts(self) -> TokenRotation:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def settings_check(self) -> SettingsCheck | StartupFailed:
        if isinstance(self.outcome, Exception):
            return StartupFailed(CloudFormationAnswers(), self.outcome)
        return self.outcome.settings_check

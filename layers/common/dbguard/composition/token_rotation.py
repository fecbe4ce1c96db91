"""token_rotation's object graph, built once per cold start from its settings, and what the function
answers its callers: a run's summary (with its metrics) and the stack's settings check."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, Field, ValidationError

from dbguard.adapters import aws
from dbguard.adapters.jumpserver.client import JumpServerClient
from dbguard.adapters.registry_store import Registry
from dbguard.adapters.secrets_store import DatabaseSecrets
from dbguard.composition.jumpserver import JumpServerSettings, build_jumpserver
from dbguard.composition.rotator import RegistrySettings, build_rotator
from dbguard.errors import InvalidInput
from dbguard.observability import logger, metrics
from dbguard.rotation.policy import RotationPolicy, server_problems
from dbguard.rotation.rotator import Outcome
from dbguard.rotation.runner import RotationRunner, RunReport
from dbguard.rotation.secrets_manager import SecretsManagerRotation
from dbguard.snapstart import register_restore_hooks
from dbguard.validation import describe, describe_error, problems_from

if TYPE_CHECKING:
    from dbguard.rotation.on_demand import OnDemandRotation

SETTINGS_CHECK_ID = "dbguard-rotation-settings"  # the custom resource's physical id
REQUESTS_PER_ROTATION = 3  # JumpServer requests of a steady-state rotation (docs/rotation.md)
Request = TypeVar("Request", bound=BaseModel)


class TokenRotationSettings(JumpServerSettings, RegistrySettings):
    rotation_schedule: str = Field(default="rate(1 hour)", alias="ROTATION_SCHEDULE")
    rotation_window_seconds: int = Field(default=7 * 86400, ge=60, alias="ROTATION_WINDOW_SECONDS")
    token_lifetime_seconds: int = Field(default=30 * 86400, ge=300, alias="JUMPSERVER_TOKEN_LIFETIME_SECONDS")
    rotation_concurrency: int = Field(default=8, ge=1, le=64, alias="ROTATION_CONCURRENCY")
    rotation_deadline_margin_seconds: int = Field(
        default=30, ge=5, le=600, alias="ROTATION_DEADLINE_MARGIN_SECONDS"
    )


@dataclass(frozen=True)
class TokenRotation:
    settings: TokenRotationSettings
    jumpserver: JumpServerClient
    runner: RotationRunner
    secrets_manager_rotation: SecretsManagerRotation
    policy: RotationPolicy

    def rotate_due(self, remaining_ms: Callable[[], int]) -> dict[str, Any]:
        """What expires within the rotation window, most urgent first; the run's summary."""
        started = time.monotonic()
        expiring_before = int(time.time()) + self.settings.rotation_window_seconds
        return _summarise(self.runner.rotate_due(expiring_before, self._has_time(remaining_ms)), started)

    def rotate_named(self, request: OnDemandRotation, remaining_ms: Callable[[], int]) -> dict[str, Any]:
        started = time.monotonic()
        report = self.runner.rotate_named(request.names, self._has_time(remaining_ms), force=request.force)
        return _summarise(report, started)

    def deployment_problems(self) -> list[str]:
        return self.policy.problems() + server_problems(self.jumpserver)

    def _has_time(self, remaining_ms: Callable[[], int]) -> Callable[[], bool]:
        """Whether a database may still be started: not within the deadline margin of the timeout."""
        margin_ms = self.settings.rotation_deadline_margin_seconds * 1000
        return lambda: remaining_ms() > margin_ms


def databases_at_once(
    jumpserver_requests_at_once: int, requests_per_minute: int = 0, deadline_margin_seconds: int = 30
) -> int:
    """Twice as many databases in progress as JumpServer requests allowed at once: a database spends
    part of its rotation on DynamoDB and Secrets Manager (six round trips), and while it does, another
    one's JumpServer request keeps the slot busy. JumpServer itself never sees more than the bound.

    Paced (`requests_per_minute`), the budget rather than round trips bounds the run, and what is in
    progress when the deadline margin begins must still get its requests: no more databases than the
    budget serves in half the margin, and never fewer than the requests allowed at once."""
    doubled = 2 * jumpserver_requests_at_once
    if not requests_per_minute:
        return doubled
    drained = requests_per_minute * deadline_margin_seconds // (2 * 60 * REQUESTS_PER_ROTATION)
    return max(jumpserver_requests_at_once, min(doubled, drained))


def compose() -> TokenRotation:
    register_restore_hooks()  # what environments restored from one SnapStart snapshot would share
    settings = TokenRotationSettings.load()
    secretsmanager = aws.client("secretsmanager")
    registry = Registry.create(settings.registry_table_name)
    secrets = DatabaseSecrets(secretsmanager, settings.secrets_prefix)
    jumpserver = build_jumpserver(settings, secretsmanager, max_in_flight=settings.rotation_concurrency)
    rotator = build_rotator(settings, jumpserver, registry, secrets)
    return TokenRotation(
        settings=settings,
        jumpserver=jumpserver,
        runner=RotationRunner(
            registry,
            rotator,
            databases_at_once(
                settings.rotation_concurrency,
                settings.jumpserver_requests_per_minute,
                settings.rotation_deadline_margin_seconds,
            ),
        ),
        secrets_manager_rotation=SecretsManagerRotation(rotator, registry, secrets),
        policy=RotationPolicy(
            schedule=settings.rotation_schedule,
            window_seconds=settings.rotation_window_seconds,
            token_lifetime_seconds=settings.token_lifetime_seconds,
            consumer_cache_seconds=settings.consumer_cache_seconds,
        ),
    )


@dataclass(frozen=True)
class ColdStart:
    """The parts a cold start built, or the error that stopped it: the stack's settings check gets an
    answer either way (CloudFormation would otherwise wait an hour), every other caller the error."""

    outcome: TokenRotation | Exception

    @classmethod
    def attempt(cls) -> ColdStart:
        try:
            rotation = compose()
        except Exception as error:
            logger.exception("token_rotation cannot start")
            return cls(error)
        # the stack refuses these settings; a hand-edited environment may not
        for problem in rotation.policy.problems():
            logger.error("rotation settings cannot keep a valid token in place", extra={"problem": problem})
        return cls(rotation)

    def parts(self) -> TokenRotation:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def answer_settings_check(self, event: dict[str, Any]) -> None:
        """Fail the stack's create or update when the settings cannot keep a valid token in place."""
        # here, not at the top: only the stack's deployments send one (cold start)
        from dbguard.adapters.cloudformation import CustomResourceRequest, respond

        request = parse(CustomResourceRequest, event, "CloudFormation request")
        problems = [] if request.request_type == "Delete" else self._deployment_problems()
        for problem in problems:
            logger.error("rotation settings refused", extra={"problem": problem})
        reason = " | ".join(problems) or "rotation settings keep a valid token in place"
        respond(request, success=not problems, reason=reason, physical_id=SETTINGS_CHECK_ID)

    def _deployment_problems(self) -> list[str]:
        if isinstance(self.outcome, Exception):
            return [f"token_rotation cannot start: {describe_error(self.outcome)}"]
        return self.outcome.deployment_problems()


def parse(model: type[Request], event: dict[str, Any], what: str) -> Request:
    """The event as `model`, or InvalidInput naming the fields wrong (never their values)."""
    try:
        return model.model_validate(event)
    except ValidationError as error:
        raise InvalidInput(f"invalid {what}: {describe(error)}", problems_from(error)) from None


def _summarise(report: RunReport, started: float) -> dict[str, Any]:
    counts = {outcome.value: report.count(outcome) for outcome in Outcome}
    metrics.add_metric(name="TokensRotated", unit=MetricUnit.Count, value=counts["rotated"])
    metrics.add_metric(name="RotationFailed", unit=MetricUnit.Count, value=counts["failed"])
    metrics.add_metric(name="RotationSkipped", unit=MetricUnit.Count, value=report.not_due)
    metrics.add_metric(name="RotationDeferred", unit=MetricUnit.Count, value=len(report.deferred))
    metrics.add_metric(name="TokensExpired", unit=MetricUnit.Count, value=report.tokens_expired)
    duration_ms = (time.monotonic() - started) * 1000
    metrics.add_metric(name="RotationRunDuration", unit=MetricUnit.Milliseconds, value=duration_ms)
    summary = {**counts, "not_due": report.not_due, "deferred": report.deferred}
    logger.info("rotation run finished", extra=summary)
    return {**summary, "results": [result.as_dict() for result in report.results]}

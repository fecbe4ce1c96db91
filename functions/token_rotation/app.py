"""Connection tokens rotated into Secrets Manager.

One function, four callers: the EventBridge schedule (what is due), an operator's invoke
(`{"rotate": [...]}`), Secrets Manager's rotation steps (`rotate-secret`), and the stack's custom
resource that refuses settings which cannot keep a valid token in place.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from dbguard import aws
from dbguard.cloudformation import CustomResourceRequest, respond
from dbguard.errors import InvalidInput
from dbguard.jumpserver.client import JUMPSERVER_SETTINGS, JumpServerClient
from dbguard.observability import logger, metrics, tracer
from dbguard.registry.store import Registry
from dbguard.rotation.factory import ROTATION_SETTINGS, build_rotator
from dbguard.rotation.on_demand import OnDemandRotation
from dbguard.rotation.policy import RotationPolicy
from dbguard.rotation.rotator import Outcome
from dbguard.rotation.runner import RotationRunner, RunReport
from dbguard.rotation.secrets_manager import RotationStep, SecretsManagerRotation
from dbguard.secrets.store import DatabaseSecrets
from dbguard.settings import Settings
from dbguard.validation import describe, problems_from

settings = Settings.from_env(*ROTATION_SETTINGS, *JUMPSERVER_SETTINGS)
_secretsmanager = aws.client("secretsmanager")
_registry = Registry.create(settings.registry_table_name)
_secrets = DatabaseSecrets(_secretsmanager, settings.secrets_prefix)
_rotator = build_rotator(
    settings, JumpServerClient.from_settings(settings, _secretsmanager), _registry, _secrets
)
runner = RotationRunner(_registry, _rotator, settings.rotation_concurrency)
secrets_manager_rotation = SecretsManagerRotation(_rotator, _registry, _secrets)
policy = RotationPolicy(
    schedule=settings.rotation_schedule,
    window_seconds=settings.rotation_window_seconds,
    token_lifetime_seconds=settings.token_lifetime_seconds,
    consumer_cache_seconds=settings.consumer_cache_seconds,
)
for _problem in policy.problems():  # the stack refuses these; a hand-edited environment may not
    logger.error("rotation settings cannot keep a valid token in place", extra={"problem": _problem})


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    if "Step" in event:
        return _secrets_manager_step(event)
    if "RequestType" in event:
        return _check_settings(event)
    if "rotate" in event:
        return _on_demand(event, context)
    if event.get("detail-type") == "Scheduled Event":
        return _scheduled(context)
    raise InvalidInput(
        'unrecognised event: expected a scheduled EventBridge event, {"rotate": [...] | "all"}, '
        "a Secrets Manager rotation step or a CloudFormation custom resource request"
    )


def _scheduled(context: LambdaContext) -> dict[str, Any]:
    started = time.monotonic()
    expiring_before = int(time.time()) + settings.rotation_window_seconds
    report = runner.rotate_due(expiring_before, _has_time(context))
    return _summarise(report, started)


def _on_demand(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = _parse(OnDemandRotation, event, "on-demand rotation request")
    started = time.monotonic()
    return _summarise(runner.rotate_named(request.names, _has_time(context)), started)


def _secrets_manager_step(event: dict[str, Any]) -> None:
    step = _parse(RotationStep, event, "Secrets Manager rotation step")
    logger.info("Secrets Manager rotation step", extra={"step": step.step, "secret_id": step.secret_id})
    secrets_manager_rotation.run(step)


def _check_settings(event: dict[str, Any]) -> None:
    request = _parse(CustomResourceRequest, event, "CloudFormation request")
    problems = [] if request.request_type == "Delete" else policy.problems()
    for problem in problems:
        logger.error("rotation settings refused", extra={"problem": problem})
    reason = " | ".join(problems) or "rotation settings keep a valid token in place"
    respond(request, success=not problems, reason=reason, physical_id="dbguard-rotation-settings")


def _has_time(context: LambdaContext):
    margin_ms = settings.rotation_deadline_margin_seconds * 1000
    return lambda: context.get_remaining_time_in_millis() > margin_ms


def _parse(model, event: dict[str, Any], what: str):
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

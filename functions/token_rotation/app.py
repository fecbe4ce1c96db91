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

from dbguard.adapters.cloudformation import CustomResourceRequest, respond
from dbguard.composition.token_rotation import TokenRotation, compose_token_rotation
from dbguard.errors import InvalidInput, describe_error
from dbguard.observability import logger, metrics, tracer
from dbguard.rotation.on_demand import OnDemandRotation
from dbguard.rotation.policy import server_problems
from dbguard.rotation.rotator import Outcome
from dbguard.rotation.runner import RunReport
from dbguard.rotation.secrets_manager import RotationStep
from dbguard.validation import describe, problems_from

try:
    parts: TokenRotation | None = compose_token_rotation()
    init_error: Exception | None = None
except Exception as error:  # CloudFormation must still get an answer (below), or it waits an hour
    parts, init_error = None, error
    logger.exception("token_rotation cannot start")
else:
    for _problem in parts.policy.problems():  # the stack refuses these; a hand-edited environment may not
        logger.error("rotation settings cannot keep a valid token in place", extra={"problem": _problem})


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    if "RequestType" in event:
        return _check_settings(event)
    if parts is None:
        raise init_error
    if "Step" in event:
        return _secrets_manager_step(event)
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
    expiring_before = int(time.time()) + parts.settings.rotation_window_seconds
    report = parts.runner.rotate_due(expiring_before, _has_time(context))
    return _summarise(report, started)


def _on_demand(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = _parse(OnDemandRotation, event, "on-demand rotation request")
    started = time.monotonic()
    report = parts.runner.rotate_named(request.names, _has_time(context), force=request.force)
    return _summarise(report, started)


def _secrets_manager_step(event: dict[str, Any]) -> None:
    step = _parse(RotationStep, event, "Secrets Manager rotation step")
    logger.info("Secrets Manager rotation step", extra={"step": step.step, "secret_id": step.secret_id})
    parts.secrets_manager_rotation.run(step)


def _check_settings(event: dict[str, Any]) -> None:
    request = _parse(CustomResourceRequest, event, "CloudFormation request")
    problems = [] if request.request_type == "Delete" else _deployment_problems()
    for problem in problems:
        logger.error("rotation settings refused", extra={"problem": problem})
    reason = " | ".join(problems) or "rotation settings keep a valid token in place"
    respond(request, success=not problems, reason=reason, physical_id="dbguard-rotation-settings")


def _deployment_problems() -> list[str]:
    if parts is None:
        return [f"token_rotation cannot start: {describe_error(init_error)}"]
    return parts.policy.problems() + server_problems(parts.jumpserver)


def _has_time(context: LambdaContext):
    margin_ms = parts.settings.rotation_deadline_margin_seconds * 1000
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

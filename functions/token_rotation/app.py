"""Connection tokens rotated into Secrets Manager.

One function, four callers: the EventBridge schedule (what is due), an operator's invoke
(`{"rotate": [...]}`, or `{"checkToken": ...}` to see where a token stands), Secrets Manager's
rotation steps (`rotate-secret`), and the stack's custom resource that refuses settings which cannot
keep a valid token in place.
"""

from __future__ import annotations

from dbguard.init_phase import init_finished

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.composition.token_rotation import ColdStart, TokenRotation
from dbguard.errors import InvalidInput
from dbguard.observability import logger, metrics, tracer
from dbguard.rotation.steps import RotationStep
from dbguard.validation import parse_event

cold_start = ColdStart.attempt()  # never raises: CloudFormation must get an answer all the same
init_finished()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    if "RequestType" in event:
        from dbguard.deployment import CustomResourceRequest  # deployments only (cold start)

        cold_start.settings_check().answer(
            parse_event(CustomResourceRequest, event, "CloudFormation request")
        )
        return None
    rotation = cold_start.parts()  # raises what stopped the cold start
    try:
        return _answer(rotation, event, context)
    finally:
        rotation.jumpserver_requests.report()


def _answer(rotation: TokenRotation, event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    if "Step" in event:
        step = parse_event(RotationStep, event, "Secrets Manager rotation step")
        logger.info("Secrets Manager rotation step", extra={"step": step.step, "secret_id": step.secret_id})
        rotation.secrets_manager_rotation.run(step)
        return None
    if "rotate" in event:
        from dbguard.rotation.on_demand import OnDemandRotation  # operators' invokes only (cold start)

        request = parse_event(OnDemandRotation, event, "on-demand rotation request")
        return rotation.runner.run_named(request, context.get_remaining_time_in_millis)
    if "checkToken" in event:
        from dbguard.rotation.on_demand import TokenCheck  # operators' invokes only (cold start)

        return rotation.token_status.check(parse_event(TokenCheck, event, "token check"))
    if event.get("detail-type") == "Scheduled Event":
        return rotation.runner.run_due(context.get_remaining_time_in_millis)
    raise InvalidInput(
        'unrecognised event: expected a scheduled EventBridge event, {"rotate": [...] | "all"}, '
        '{"checkToken": ..., "database": ...}, a Secrets Manager rotation step or a CloudFormation '
        "custom resource request"
    )

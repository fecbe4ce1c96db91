"""REQUEST authorizer for POST /audit/events: `?token=` must be one of the ingest tokens.

API Gateway caches the answer per token (AuthorizerCacheTtlSeconds); the function caches the token
secret for INGEST_TOKEN_CACHE_SECONDS, so a removed token stops working within the sum of both. The
token itself is never logged, returned or used as the principal id.
"""

from __future__ import annotations

from dbguard.init_phase import init_finished

from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.composition.audit_authorizer import compose
from dbguard.metric_catalogue import INGEST_TOKEN_MISSING, INGEST_TOKEN_REJECTED
from dbguard.observability import emit, logger, metrics, tracer

tokens = compose()
init_finished()
INGEST_ROUTE = "/audit/events"


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict[str, Any]:
    token = (event.query_string_parameters or {}).get("token")
    if not token:
        emit(INGEST_TOKEN_MISSING, 1)
        raise Exception("Unauthorized")  # API Gateway answers 401 for exactly this message
    slot = tokens.slot_of(token)
    arn = event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id="qhb-ingest" if slot is not None else "rejected",
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={"tokenSlot": -1 if slot is None else slot},
    )
    if slot is None:
        emit(INGEST_TOKEN_REJECTED, 1)
        logger.warning("ingest token rejected", extra={"sourceIp": event.request_context.identity.source_ip})
        policy.deny_all_routes()
    else:
        policy.allow_route("POST", INGEST_ROUTE)
    return policy.asdict()

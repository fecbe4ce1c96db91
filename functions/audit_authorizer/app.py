"""REQUEST authorizer for POST /audit/events: `?token=` must be one of the ingest tokens.

API Gateway caches the answer per token (AuthorizerCacheTtlSeconds); the function caches the token
secret for INGEST_TOKEN_CACHE_SECONDS, so a removed token stops working within the sum of both. The
token itself is never logged, returned or used as the principal id.
"""

from __future__ import annotations

import time

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from dbguard.audit.tokens import IngestTokens
from dbguard.composition.settings import Settings
from dbguard.errors import ConfigurationError
from dbguard.observability import logger, metrics, tracer
from dbguard.validation import describe

settings = Settings.from_env("ingest_token_secret_arn")
INGEST_ROUTE = "/audit/events"
# A token added to the secret is honoured at once: a miss reads the secret again, at most this often
# (so a flood of wrong tokens cannot turn into a flood of Secrets Manager reads).
REFRESH_ON_MISS_SECONDS = 10.0
_last_refresh = -REFRESH_ON_MISS_SECONDS


def _slot_of(token: str) -> int | None:
    global _last_refresh
    slot = _valid_tokens().slot_of(token)
    if slot is None and time.monotonic() - _last_refresh >= REFRESH_ON_MISS_SECONDS:
        _last_refresh = time.monotonic()
        slot = _valid_tokens(force=True).slot_of(token)
    return slot


def _valid_tokens(force: bool = False) -> IngestTokens:
    secret = parameters.get_secret(
        settings.ingest_token_secret_arn,
        transform="json",
        max_age=settings.ingest_token_cache_seconds,
        force_fetch=force,
    )
    try:
        return IngestTokens.model_validate(secret)
    except ValidationError as error:
        # Refusing every request is louder (alarm) and safer than accepting a malformed token list.
        raise ConfigurationError(f"ingest token secret is malformed: {describe(error)}") from None


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict:
    token = (event.query_string_parameters or {}).get("token")
    if not token:
        metrics.add_metric(name="IngestTokenMissing", unit=MetricUnit.Count, value=1)
        raise Exception("Unauthorized")  # API Gateway answers 401 for exactly this message
    slot = _slot_of(token)
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
        metrics.add_metric(name="IngestTokenRejected", unit=MetricUnit.Count, value=1)
        logger.warning("ingest token rejected", extra={"sourceIp": event.request_context.identity.source_ip})
        policy.deny_all_routes()
    else:
        policy.allow_route("POST", INGEST_ROUTE)
    return policy.asdict()

"""CMDB change events (EventBridge rule -> SQS) applied to JumpServer, the registry and secrets.

A message that can never be applied (invalid, rejected by a rule such as a name collision, or refused
by JumpServer itself) goes to the dead-letter queue at once with its reason and is acknowledged; any
other failure is reported as a batch item failure, so SQS retries it and, after maxReceiveCount
receives, moves it to the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.cmdb.parsing import parse_change
from dbguard.composition.cmdb_sync import compose
from dbguard.errors import InvalidInput, Unretryable
from dbguard.metric_catalogue import (
    CHANGES_DEFERRED,
    CHANGES_FAILED,
    CHANGES_IGNORED_STALE,
    CHANGES_REJECTED,
    DATABASES_REGISTERED,
    DATABASES_RETIRED,
    DATABASES_UPDATED,
)
from dbguard.observability import emit, logger, metrics, tracer

parts = compose()

_OUTCOME_METRICS = {
    "registered": DATABASES_REGISTERED,
    "updated": DATABASES_UPDATED,
    "retired": DATABASES_RETIRED,
    "ignored_stale": CHANGES_IGNORED_STALE,
}


# A change takes about a dozen JumpServer calls, paced under JumpServerRequestsPerMinute: one not
# started this close to the timeout is left to SQS (redelivered after the visibility timeout) rather
# than cut off half-way.
DEADLINE_MARGIN_MS = 20_000


class ChangeDeferred(Exception):
    """Not started: the invocation's time is nearly up."""


def handle_record(record: dict[str, Any], lambda_context: LambdaContext | None = None) -> None:
    if lambda_context is not None and lambda_context.get_remaining_time_in_millis() < DEADLINE_MARGIN_MS:
        emit(CHANGES_DEFERRED, 1)
        raise ChangeDeferred(f"message {record['messageId']} not started: the invocation's time is nearly up")
    try:
        change = parse_change(record["body"], parts.settings.cmdb_max_event_bytes)
        outcome = parts.sync.apply(change)
    except (InvalidInput, Unretryable) as error:
        _reject(record, str(error))
        return
    except Exception:
        emit(CHANGES_FAILED, 1)
        logger.exception("CMDB change failed; SQS will retry it", extra={"message_id": record["messageId"]})
        raise
    emit(_OUTCOME_METRICS[outcome.value], 1)
    logger.info(
        "CMDB change applied",
        extra={"outcome": outcome.value, "cmdb_id": change.instance.id, "version": change.version},
    )


def _reject(record: dict[str, Any], reason: str) -> None:
    parts.dead_letters.send(record["body"], reason, record["messageId"])
    emit(CHANGES_REJECTED, 1)
    logger.error(
        "CMDB change rejected; sent to the DLQ", extra={"message_id": record["messageId"], "reason": reason}
    )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The partial batch response by hand, not Powertools' BatchProcessor: importing that utility
    # (asyncio, its event data classes, its parser models once pydantic is loaded) costs every cold
    # start tens of milliseconds. A batch whose every change failed is still a partial response: SQS
    # retries each message on its own count towards the DLQ, and a JumpServer outage does not look
    # like a crashing function. Records stay plain dicts: Powertools' SQSRecord would import every
    # event data class it has, for two keys.
    failures = []
    try:
        for record in event["Records"]:
            try:
                handle_record(record, context)
            except Exception:  # handle_record logged and counted it; SQS redelivers it
                failures.append({"itemIdentifier": record["messageId"]})
    finally:
        parts.jumpserver_requests.report()
    return {"batchItemFailures": failures}

"""qhb_audit CSV files dropped into S3 (ObjectCreated -> SQS) stored as audit events, each row once.

How a file is read, resumed, checkpointed and quarantined is services/audit_csv_import.py's; this
handler reads the batch and answers the partial batch response (a failed message comes back)."""

from __future__ import annotations

from dbguard.init_phase import init_finished

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.audit.csv_import import QueuedMessage
from dbguard.composition.audit_csv_import import compose
from dbguard.observability import logger, metrics, tracer

parts = compose()
init_finished()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    messages = [QueuedMessage(record["messageId"], record["body"]) for record in event["Records"]]
    try:
        retry = parts.queue.consume(messages, context.get_remaining_time_in_millis)
    finally:
        parts.sources.flush()
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in retry]}

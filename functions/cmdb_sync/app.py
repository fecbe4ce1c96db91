"""CMDB change events (EventBridge rule -> SQS) applied to JumpServer, the registry and secrets.

What becomes of each message (applied, dead-lettered at once with its reason, held back after a
refusal of dbguard itself, or left to SQS's retries) is services/cmdb_queue.py's; this handler reads
the batch and answers the partial batch response.
"""

from __future__ import annotations

from dbguard.init_phase import init_finished

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.cmdb.queued import QueuedChange
from dbguard.composition.cmdb_sync import compose
from dbguard.observability import logger, metrics, tracer

parts = compose()
init_finished()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The partial batch response by hand, not Powertools' BatchProcessor: importing that utility
    # (asyncio, its event data classes, its parser models once pydantic is loaded) costs every cold
    # start tens of milliseconds. A batch whose every change failed is still a partial response: SQS
    # retries each message on its own count towards the DLQ, and a JumpServer outage does not look
    # like a crashing function. Records stay plain dicts: Powertools' SQSRecord would import every
    # event data class it has, for three keys.
    changes = [
        QueuedChange(
            message_id=record["messageId"],
            body=record["body"],
            receive_count=int(record.get("attributes", {}).get("ApproximateReceiveCount", 1)),
        )
        for record in event["Records"]
    ]
    try:
        retry = parts.queue.consume(changes, context.get_remaining_time_in_millis if context else None)
    finally:
        parts.jumpserver_requests.report()
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in retry]}

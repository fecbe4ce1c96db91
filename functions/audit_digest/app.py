"""Hourly signed digests of the audit table (docs/audit-digests.md): on its schedule, one digest for
every closed storage hour not yet digested, each naming the one before."""

from __future__ import annotations

from dbguard.init_phase import init_finished

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dbguard.composition.audit_digest import compose
from dbguard.metric_catalogue import (
    DIGEST_EVENTS,
    DIGEST_HOURS_BEHIND,
    DIGEST_KEY_UNUSABLE,
    DIGESTS_WRITTEN,
)
from dbguard.observability import emit, logger, metrics, tracer

digests = compose()
init_finished()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    emit(DIGEST_KEY_UNUSABLE, int(digests.key_unusable()))
    run = digests.run(time.time_ns() // 1_000_000, context.get_remaining_time_in_millis)
    emit(DIGESTS_WRITTEN, len(run.written))
    emit(DIGEST_EVENTS, run.events)
    emit(DIGEST_HOURS_BEHIND, run.behind)
    logger.info("audit digests", extra=run.summary())
    return run.summary()

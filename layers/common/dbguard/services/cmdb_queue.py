"""A batch of CMDB changes from the queue: each applied, dead-lettered or left to SQS's retries.

- A change that can never be applied as it stands (invalid, rejected by a rule, refused by
  JumpServer) goes to the dead-letter queue at once, with its reason: SQS retrying it would change
  nothing but the bill.
- A refusal of dbguard itself (ServiceRefused: reusable tokens disabled, the service user's
  credentials or roles) would meet every other change too: the rest of the batch is not attempted,
  goes to the dead-letter queue with that reason, and is redriven once the operator has fixed it.
- Any other failure is left to SQS (retried after the visibility timeout), and a change not started
  because the invocation's time is nearly up too.
- `Database Registration Failed` is announced once per change, when it is dead-lettered: at once, or
  at the receive after which SQS moves it (its receive count reached `max_receive_count`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dbguard.cmdb.models import CmdbChange
from dbguard.cmdb.parsing import parse_change
from dbguard.cmdb.queued import QueuedChange
from dbguard.errors import InvalidInput, NeedsOperator, ServiceRefused, Unretryable
from dbguard.metric_catalogue import (
    CHANGES_DEFERRED,
    CHANGES_FAILED,
    CHANGES_IGNORED_STALE,
    CHANGES_REJECTED,
    DATABASES_REGISTERED,
    DATABASES_RETIRED,
    DATABASES_UPDATED,
)
from dbguard.observability import emit, logger
from dbguard.operator_events import CMDB_SOURCE, REGISTRATION_FAILED_DETAIL_TYPE, OperatorEvents
from dbguard.services.cmdb_sync import CmdbSync, SyncOutcome
from dbguard.validation import describe_error

# A change takes about a dozen JumpServer calls, paced under JumpServerRequestsPerMinute: one not
# started this close to the timeout is left to SQS (redelivered after the visibility timeout) rather
# than cut off half-way.
DEADLINE_MARGIN_MS = 20_000

_OUTCOME_METRICS = {
    SyncOutcome.REGISTERED: DATABASES_REGISTERED,
    SyncOutcome.UPDATED: DATABASES_UPDATED,
    SyncOutcome.RETIRED: DATABASES_RETIRED,
    SyncOutcome.IGNORED_STALE: CHANGES_IGNORED_STALE,
}


class DeadLetterQueue(Protocol):
    def send(self, body: str, reason: str, message_id: str) -> None: ...


@dataclass
class _Batch:
    """What one batch learnt: the refusal that stopped it, and what became of the other changes."""

    refusal: ServiceRefused | None = None
    refused: dict[str, Any] = field(default_factory=dict)  # the refusal's event, announced at the end
    held_back: list[str] = field(default_factory=list)
    to_retry: list[str] = field(default_factory=list)


class CmdbQueue:
    def __init__(
        self,
        sync: CmdbSync,
        dead_letters: DeadLetterQueue,
        events: OperatorEvents,
        *,
        max_event_bytes: int,
        max_receive_count: int,
    ) -> None:
        self._sync = sync
        self._dead_letters = dead_letters
        self._events = events
        self._max_event_bytes = max_event_bytes
        self._max_receive_count = max_receive_count

    def consume(
        self, changes: list[QueuedChange], remaining_ms: Callable[[], int] | None = None
    ) -> list[str]:
        """Apply the batch in order; the message ids SQS must deliver again."""
        batch = _Batch()
        for queued in changes:
            if batch.refusal is not None:
                self._hold_back(queued, batch)
            elif remaining_ms is not None and remaining_ms() < DEADLINE_MARGIN_MS:
                emit(CHANGES_DEFERRED, 1)
                logger.info("CMDB change not started: the invocation's time is nearly up",
                            extra={"message_id": queued.message_id})  # fmt: skip
                batch.to_retry.append(queued.message_id)
            else:
                self._consume_one(queued, batch)
        if batch.refusal is not None:  # one event for the refusal, however many changes it held back
            self._events.publish(
                CMDB_SOURCE,
                REGISTRATION_FAILED_DETAIL_TYPE,
                {**batch.refused, "heldBack": len(batch.held_back)},
            )
        if batch.held_back:
            logger.error(
                "CMDB changes not attempted after JumpServer refused dbguard; sent to the DLQ",
                extra={"held_back": len(batch.held_back), "reason": str(batch.refusal)},
            )
        return batch.to_retry

    def _consume_one(self, queued: QueuedChange, batch: _Batch) -> None:
        change: CmdbChange | None = None
        try:
            change = parse_change(queued.body, self._max_event_bytes)
            outcome = self._sync.apply(change)
        except (InvalidInput, Unretryable) as error:
            self._dead_letter(queued, error)
            if isinstance(error, ServiceRefused):
                batch.refusal, batch.refused = error, _failure(queued, change, error)
            else:
                self._events.publish(
                    CMDB_SOURCE, REGISTRATION_FAILED_DETAIL_TYPE, _failure(queued, change, error)
                )
            return
        except Exception as error:
            emit(CHANGES_FAILED, 1)
            logger.exception("CMDB change failed; SQS will retry it", extra={"message_id": queued.message_id})
            batch.to_retry.append(queued.message_id)
            if queued.receive_count >= self._max_receive_count:  # SQS dead-letters it after this receive
                self._events.publish(
                    CMDB_SOURCE, REGISTRATION_FAILED_DETAIL_TYPE, _failure(queued, change, error)
                )
            return
        emit(_OUTCOME_METRICS[outcome], 1)
        logger.info(
            "CMDB change applied",
            extra={"outcome": outcome.value, "cmdb_id": change.instance.id, "version": change.version},
        )

    def _dead_letter(self, queued: QueuedChange, error: Exception) -> None:
        reason = str(error)  # a refusal an operator ends says what to change (NeedsOperator)
        self._dead_letters.send(queued.body, reason, queued.message_id)
        emit(CHANGES_REJECTED, 1)
        logger.error(
            "CMDB change rejected; sent to the DLQ", extra={"message_id": queued.message_id, "reason": reason}
        )

    def _hold_back(self, queued: QueuedChange, batch: _Batch) -> None:
        reason = f"not attempted: JumpServer refused dbguard earlier in its batch: {batch.refusal}"
        self._dead_letters.send(queued.body, reason, queued.message_id)
        emit(CHANGES_REJECTED, 1)
        batch.held_back.append(queued.message_id)


def _failure(queued: QueuedChange, change: CmdbChange | None, error: Exception) -> dict[str, Any]:
    """Database Registration Failed's detail (docs/operations.md)."""
    detail: dict[str, Any] = {
        "cmdbId": change.instance.id if change else None,
        "database": change.instance.name if change else None,
        "version": change.version if change else None,
        "action": change.action if change else None,
        "messageId": queued.message_id,
        "errorClass": type(error).__name__,
        "error": describe_error(error),
        "attempts": queued.receive_count,
        "needsOperator": isinstance(error, NeedsOperator),
    }
    if isinstance(error, NeedsOperator):
        detail["fix"] = error.fix
    return detail

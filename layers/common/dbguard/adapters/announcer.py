"""Announcing direct connections on the account's default EventBridge bus, without losing one.

PutEvents is retried by the SDK (standard mode). An entry the bus still refuses - the call failed,
or the answer gives the entry an ErrorCode - goes to the dead-letter queue as the very PutEvents
entry, so a redrive is `aws events put-events --entries '[<body>]'` (docs/audit-ingest.md). The
ingest answer does not wait for a retry: qhb_audit would only resend an event already stored, a
duplicate that announces nothing. If the queue refuses too, the event ids are logged at ERROR and
counted (alarmed); the events are stored with direct=true, so `?direct=true` still lists them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from dbguard.adapters import aws
from dbguard.audit.direct import ANNOUNCEMENT_DETAIL_TYPE, ANNOUNCEMENT_SOURCE, DirectConnection
from dbguard.metric_catalogue import DIRECT_CONNECTIONS_DEAD_LETTERED, DIRECT_CONNECTIONS_UNANNOUNCED
from dbguard.observability import emit, logger

DEFAULT_BUS = "default"
_BATCH_LIMIT = 10  # entries per PutEvents call, messages per SendMessageBatch call
# Announcing happens after the events are stored, inside audit_ingest's 10 s: a bus or queue that
# hangs must leave time to dead-letter (at most 2 x 2 s per call), and after one call that could not
# reach the service the rest of the request's calls are not tried (a timeout on the invocation
# would lose the announcements: qhb_audit's retry is a duplicate).
_CLIENT_CONFIG = aws.CLIENT_CONFIG.merge(
    Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=1, read_timeout=1)
)

Refused = tuple[DirectConnection, dict[str, Any], str]  # the connection, its entry, the reason


class EventBridgeAnnouncer:
    def __init__(self, dead_letter_queue_url: str) -> None:
        self._dead_letter_queue_url = dead_letter_queue_url

    @classmethod
    def create(cls, dead_letter_queue_url: str) -> EventBridgeAnnouncer:
        return cls(dead_letter_queue_url)

    # Made by the first announcement: few requests hold a direct connection, and a client costs
    # every cold start tens of milliseconds (its service model is loaded and parsed).
    @cached_property
    def _events(self) -> Any:
        return aws.client("events", _CLIENT_CONFIG)

    @cached_property
    def _sqs(self) -> Any:
        return aws.client("sqs", _CLIENT_CONFIG)

    def announce(self, connections: Sequence[DirectConnection]) -> None:
        refused: list[Refused] = []
        unreachable: str | None = None
        for batch in _batches(connections):
            pairs = [(connection, entry(connection)) for connection in batch]
            if unreachable is None:
                try:
                    refused += self._put(pairs)
                    continue
                except BotoCoreError as error:  # timeouts, no connection: the next call would wait too
                    unreachable = type(error).__name__
            refused += [(connection, entry, unreachable) for connection, entry in pairs]
        if refused:
            logger.warning(
                "direct connection announcements refused by EventBridge; dead-lettering them",
                extra={"ids": [c.id for c, _, _ in refused], "reasons": sorted({r for _, _, r in refused})},
            )
            self._dead_letter(refused)

    def _put(self, batch: list[tuple[DirectConnection, dict[str, Any]]]) -> list[Refused]:
        try:
            response = self._events.put_events(Entries=[entry for _, entry in batch])
        except ClientError as error:
            return [(connection, entry, _reason(error)) for connection, entry in batch]
        answers = response.get("Entries") or []
        refused: list[Refused] = []
        for position, (connection, entry) in enumerate(batch):  # answers come in request order
            answer = answers[position] if position < len(answers) else {}
            if not answer.get("EventId"):  # a partial failure: FailedEntryCount > 0
                refused.append((connection, entry, answer.get("ErrorCode") or "no EventId in the answer"))
        return refused

    def _dead_letter(self, refused: list[Refused]) -> None:
        lost: list[str] = []
        reachable = True
        for batch in _batches(refused):
            if not reachable:
                lost += [connection.id for connection, _, _ in batch]
                continue
            try:
                lost += self._send(batch)
            except BotoCoreError:  # as for the bus: do not wait on each remaining batch
                reachable = False
                lost += [connection.id for connection, _, _ in batch]
        dead_lettered = len(refused) - len(lost)
        emit(DIRECT_CONNECTIONS_DEAD_LETTERED, dead_lettered)
        if lost:
            emit(DIRECT_CONNECTIONS_UNANNOUNCED, len(lost))
            logger.error(
                "direct connection announcements lost: EventBridge and the dead-letter queue refused them",
                extra={"ids": lost},
            )

    def _send(self, batch: Sequence[Refused]) -> list[str]:
        """The ids of the messages the queue did not take."""
        messages = [
            {
                "Id": str(position),
                "MessageBody": json.dumps(entry),
                "MessageAttributes": {"reason": {"DataType": "String", "StringValue": reason[:256]}},
            }
            for position, (_, entry, reason) in enumerate(batch)
        ]
        try:
            response = self._sqs.send_message_batch(QueueUrl=self._dead_letter_queue_url, Entries=messages)
        except ClientError:
            return [connection.id for connection, _, _ in batch]
        return [batch[int(failure["Id"])][0].id for failure in response.get("Failed", [])]


def entry(connection: DirectConnection) -> dict[str, Any]:
    """The PutEvents entry announcing one direct connection."""
    return {
        "Source": ANNOUNCEMENT_SOURCE,
        "DetailType": ANNOUNCEMENT_DETAIL_TYPE,
        "Detail": connection.model_dump_json(by_alias=True),
        "EventBusName": DEFAULT_BUS,
    }


def _batches(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[start : start + _BATCH_LIMIT] for start in range(0, len(items), _BATCH_LIMIT)]


def _reason(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or type(error).__name__)

"""Messages that can never be applied go straight to the dead-letter queue, with the reason.

Waiting for SQS to move them after maxReceiveCount receives would retry a hopeless message for
minutes and hold back nothing but alarms; sending it at once keeps the batch moving and tells the
operator why (message attribute `reason`, also logged).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from dbguard.adapters import aws

_ATTRIBUTE_LIMIT = 1024


class DeadLetters:
    def __init__(self, queue_url: str) -> None:
        self._queue_url = queue_url

    @classmethod
    def create(cls, queue_url: str) -> DeadLetters:
        return cls(queue_url)

    # Made by the first rejection: few batches hold one, and a client costs every cold start tens of
    # milliseconds (its service model is loaded and parsed).
    @cached_property
    def _sqs(self) -> Any:
        return aws.client("sqs")

    def send(self, body: str, reason: str, message_id: str) -> None:
        self._sqs.send_message(
            QueueUrl=self._queue_url,
            MessageBody=body,
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason[:_ATTRIBUTE_LIMIT]},
                "originalMessageId": {"DataType": "String", "StringValue": message_id},
            },
        )

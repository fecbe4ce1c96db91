"""An import that stopped for time, queued again on the import's own queue (its continuation)."""

from __future__ import annotations

from typing import Any

from dbguard.adapters import aws
from dbguard.audit.csv_import import CsvObject, continuation_body


class QueuedContinuations:
    def __init__(self, queue_url: str, sqs: Any) -> None:
        self._queue_url = queue_url
        self._sqs = sqs

    @classmethod
    def create(cls, queue_url: str) -> QueuedContinuations:
        return cls(queue_url, aws.client_on_first_use("sqs"))

    def send(self, file: CsvObject) -> None:
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=continuation_body(file))

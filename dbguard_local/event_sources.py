"""What AWS does between the template's event sources and its functions, done locally.

- SQS event source mappings (`Events: Type: SQS`): poll the queue, hand batches to the function,
  delete what succeeded, leave reported failures to come back (and, past maxReceiveCount, to the
  dead-letter queue: moto applies the queue's RedrivePolicy, as SQS does).
- Schedules (`Events: Type: Schedule`): invoke the function with an EventBridge "Scheduled Event"
  at the rule's rate (or a shorter interval for demos).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dbguard_local.functions import FunctionSpec

Invoke = Callable[[str, dict[str, Any]], Any]
# A failed message comes back after this many seconds locally, not after the queue's
# VisibilityTimeout (six function timeouts), so retries and the DLQ can be watched in a demo.
LOCAL_RETRY_SECONDS = 2


class _Loop:
    """A daemon thread running `_run` until stopped."""

    def __init__(self, spec: FunctionSpec, invoke: Invoke, log: Callable, kind: str) -> None:
        self._spec = spec
        self._invoke = invoke
        self._log = log
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{kind}-{spec.logical_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)

    def _run(self) -> None:
        raise NotImplementedError


class SqsPoller(_Loop):
    def __init__(
        self, spec: FunctionSpec, source: dict[str, Any], sqs: Any, invoke: Invoke, log: Callable
    ) -> None:
        super().__init__(spec, invoke, log, "sqs")
        self._queue_arn = source["Queue"]
        self._batch_size = min(int(source.get("BatchSize", 10)), 10)
        self._reports_failures = "ReportBatchItemFailures" in source.get("FunctionResponseTypes", [])
        self._sqs = sqs
        self._queue_url = sqs.get_queue_url(QueueName=self._queue_arn.rsplit(":", 1)[1])["QueueUrl"]

    def poll_once(self, wait_seconds: int = 1) -> int:
        """Deliver one batch; returns how many messages it held."""
        received = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if received:
            self._deliver(received)
        return len(received)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception as error:  # the embedded AWS stopping under us, mostly
                if not self._stopping.is_set():
                    self._log(
                        {"type": "event-source", "function": self._spec.logical_id, "error": str(error)}
                    )
                    self._stopping.wait(1)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(message) for message in messages]}
        try:
            response = self._invoke(self._spec.logical_id, event) or {}
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
            if not self._reports_failures:
                failed = set()
        except Exception as error:  # the whole batch failed: every message comes back
            self._log({"type": "event-source", "function": self._spec.logical_id, "error": str(error)})
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(
                    QueueUrl=self._queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=LOCAL_RETRY_SECONDS,
                )
            else:
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": self._queue_arn.split(":")[3],
        }


class Scheduler(_Loop):
    def __init__(
        self,
        spec: FunctionSpec,
        interval_seconds: float,
        invoke: Invoke,
        log: Callable,
        account_id: str,
        region: str,
    ) -> None:
        super().__init__(spec, invoke, log, "schedule")
        self.interval_seconds = interval_seconds
        self._account_id = account_id
        self._region = region

    def fire(self) -> Any:
        """One scheduled invocation now (also what `make run`'s timer does)."""
        return self._invoke(self._spec.logical_id, self.event())

    def event(self) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self._account_id,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self._region,
            "resources": [
                f"arn:aws:events:{self._region}:{self._account_id}:rule/{self._spec.name}-schedule"
            ],
            "detail": {},
        }

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_seconds):
            try:
                result = self.fire()
                summary = {key: value for key, value in (result or {}).items() if key != "results"}
                self._log({"type": "schedule", "function": self._spec.logical_id, **summary})
            except Exception as error:
                self._log({"type": "schedule", "function": self._spec.logical_id, "error": str(error)})


def print_json(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)

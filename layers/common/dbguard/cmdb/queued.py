"""A CMDB change as the queue delivers it, before it is parsed (services/cmdb_queue.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueuedChange:
    message_id: str
    body: str
    receive_count: int  # this delivery's number (1 the first time; SQS's ApproximateReceiveCount)

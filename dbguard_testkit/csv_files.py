"""qhb_audit CSV files for tests and benchmarks: rows generated as QHB writes them, streamed (a 1 GB
file is never whole in memory), and the S3 -> SQS -> function path driven by hand."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parent.parent / "events" / "samples" / "qhb-audit-day.csv"
HEADER = (
    "event_name,time,user_name,database,remote_host,remote_port,success,table_name,new_table_name,"
    "database_name,new_database_name\n"
)
START_SECONDS = 1_796_515_200  # 2026-12-06T00:00:00Z


def row(index: int) -> list[str]:
    """A connection attempt or a DDL statement, different for every index."""
    seconds = START_SECONDS + index // 10
    hh, mm, ss = (seconds // 3600) % 24, (seconds // 60) % 60, seconds % 60
    day = 6 + (seconds - START_SECONDS) // 86400
    time = f"2026-12-{day:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z"
    if index % 4:
        port, success = str(40000 + index % 20000), "true" if index % 13 else "false"
        return [
            "connection attempt",
            time,
            f"app_{index % 7}",
            "billing",
            "10.1.2.50",
            port,
            success,
            "",
            "",
            "",
            "",
        ]
    return ["CREATE TABLE", time, "etl_loader", "", "", "", "", f"part_{index}", "", "", ""]


def rows_text(first: int, count: int) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(row(index) for index in range(first, first + count))
    return buffer.getvalue()


def file_bytes(rows: int, first: int = 0) -> bytes:
    return (HEADER + rows_text(first, rows)).encode("utf-8")


def generated(total_bytes: int, rows_per_chunk: int = 2000) -> Iterator[bytes]:
    """A file of about `total_bytes` (header first), as chunks: for streaming it somewhere."""
    yield HEADER.encode()
    sent, index = len(HEADER), 0
    while sent < total_bytes:
        chunk = rows_text(index, rows_per_chunk).encode()
        index += rows_per_chunk
        sent += len(chunk)
        yield chunk


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
    }


def drain(
    sqs: Any, queue_url: str, queue_arn: str, invoke: Callable[[dict[str, Any]], Any], max_batches: int = 1000
) -> int:
    """Deliver the queue's messages to `invoke` (the import's handler) until it is empty, as the SQS
    event source does: what the function reports failed, or raises for, stays; returns the batches."""
    for batches in range(max_batches):
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return batches
        try:
            answer = invoke({"Records": [sqs_record(message, queue_arn) for message in messages]}) or {}
            failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
        except Exception:
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError(f"the queue was not empty after {max_batches} batches")

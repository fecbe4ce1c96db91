"""`make direct-announcements`: the direct connections the running local stack announced (events
`Direct Database Connection Detected` on the default bus, docs/audit-ingest.md), read from the queue
`make run` routes them to - no AWS CLI needed.

Prints each announcement's `detail` (one JSON document per line) and removes it from the queue, so
the next call shows only newer ones; nothing announced yet prints nothing. WAIT=<seconds> waits that
long for a first one (default 2).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbguard_local import endpoints
from dbguard_local.cli import run
from dbguard_local.clients import local_client

BATCH = 10  # SQS's most per receive


def main(wait_seconds: int) -> int:
    queue_url = endpoints.read().announcements_queue_url
    sqs = local_client("sqs")
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=wait_seconds
    ).get("Messages", []):
        for message in messages:
            print(json.dumps(json.loads(message["Body"])["detail"], ensure_ascii=False), flush=True)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        wait_seconds = 0  # the first wait was for the first announcement; drain the rest
    return 0


if __name__ == "__main__":
    run(lambda: main(int(os.environ.get("WAIT") or 2)))

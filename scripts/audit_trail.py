"""The tamper-evident audit trail on the running local stack (docs/audit-digests.md):

  make audit-demo                      store sample events as if an hour ago, then digest that hour
  make audit-digest                    run audit_digest now (the schedule does it every hour)
  make verify-audit FROM=... TO=...    python -m dbguard_verify against the local stack
  make audit-tamper [ACTION=change|delete|insert|copy] [HOUR=...]   tamper with one stored event
  make export-audit FROM=... TO=... OUT=dir                          the auditors' offline copy

With STACK=<name>, verify-audit and export-audit read a deployment with your AWS credentials instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "common"))

from dbguard_local import cli, endpoints
from dbguard_local.clients import LOCAL_CREDENTIALS, local_client

STACK = "dbguard-local"
TABLE = f"{STACK}-AuditEventsTable"
BUCKET = f"{STACK}-digestbucket"
KEY_ALIAS = f"alias/{STACK}-audit-digests"
SAMPLE = Path(__file__).resolve().parents[1] / "events" / "samples" / "qhb-connection-event.json"


def local_names() -> list[str]:
    """The verifier's boto3 clients pointed at the running stack (.dbguard-local/endpoints.json)."""
    running = endpoints.read()
    os.environ.update(
        {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": running.aws, "AWS_DEFAULT_REGION": running.region}
    )
    key = local_client("kms").describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["Arn"]
    return ["--bucket", BUCKET, "--table", TABLE, "--key-id", key]


def deployment(args: list[str]) -> list[str]:
    stack = os.environ.get("STACK")
    return ["--stack", stack] if stack else local_names()


def previous_hour() -> int:
    return time.time_ns() // 1_000_000 // 3_600_000 - 1


def demo(count: int = 5) -> int:
    """Sample events stored through the AuditStore with a clock an hour behind - as if posted then -
    and that hour's digest written, so verify has something to check without waiting for the hour."""
    from dbguard.adapters.audit_store import AuditStore
    from dbguard.digest.document import object_key
    from dbguard.digest.hours import HOUR_MS, label

    hour = previous_hour()
    s3 = local_client("s3")
    if "Contents" in s3.list_objects_v2(Bucket=BUCKET, Prefix=object_key(hour)):
        print(f"{label(hour)} is digested already: run the demo in the next hour, or restart make run")
        return 1
    store = AuditStore(TABLE, local_client("dynamodb"), 5, clock_ns=lambda: (hour * HOUR_MS + 60_000) * 10**6)
    event = json.loads(SAMPLE.read_text())
    for number in range(count):
        raw = json.dumps(
            {**event, "Datetime": event["Datetime"] + number}, sort_keys=True, separators=(",", ":")
        )
        event_id = hashlib.sha256(raw.encode()).hexdigest()[:32]
        store.put_if_absent({"id": event_id, "receivedAt": hour * HOUR_MS + 60_000, "raw": raw, "demo": True})
    print(f"stored {count} sample events in storage hour {label(hour)}")
    return digest()


def digest() -> int:
    answer = local_client("lambda", endpoint="lambda").invoke(
        FunctionName=f"{STACK}-AuditDigestFunction", Payload=json.dumps({"detail-type": "Scheduled Event"})
    )
    print(answer["Payload"].read().decode())
    return 0 if "FunctionError" not in answer else 1


def tamper(action: str, hour_text: str | None) -> int:
    """Edit the audit table as a cloud administrator could (the digests cannot be edited)."""
    from dbguard.digest.hours import index_keys, label, parse_label

    hour = parse_label(hour_text) if hour_text else previous_hour()
    dynamodb = local_client("dynamodb")
    items = [
        item
        for key in index_keys(hour)
        for item in dynamodb.query(
            TableName=TABLE, IndexName="byStoredHour", KeyConditionExpression="gsiStoredHour = :k",
            ExpressionAttributeValues={":k": {"S": key}},
        )["Items"]
    ]  # fmt: skip
    if not items:
        print(f"no event stored in {label(hour)}: make audit-demo first")
        return 1
    items.sort(key=lambda item: item["id"]["S"])
    # each action its own event, so a change and a deletion of the demo's hour both show
    item = items[{"change": 0, "delete": -1}.get(action, len(items) // 2)]
    event_id = item["id"]["S"]
    if action == "change":
        dynamodb.update_item(TableName=TABLE, Key={"id": item["id"]}, UpdateExpression="SET userLogin = :u",
                             ExpressionAttributeValues={":u": {"S": "someone_else"}})  # fmt: skip
    elif action == "delete":
        dynamodb.delete_item(TableName=TABLE, Key={"id": item["id"]})
    elif action in ("insert", "copy"):
        event_id = hashlib.sha256(f"forged {time.time()}".encode()).hexdigest()[:32]
        forged = {**item, "id": {"S": event_id}}
        if action == "insert":
            forged["raw"] = {"S": json.dumps({"name": "nothing happened", "forged": True})}
        dynamodb.put_item(TableName=TABLE, Item=forged)
    else:
        print(f"unknown ACTION {action!r}: change, delete, insert or copy")
        return 2
    print(f"{action}: event {event_id} in storage hour {label(hour)}; now run")
    print(f"  make verify-audit FROM={label(hour)} TO={label(hour)}")
    return 0


def main(argv: list[str]) -> int:
    from dbguard_verify.__main__ import main as verify

    command, *rest = argv or ["help"]
    if command == "demo":
        local_names()
        return demo()
    if command == "digest":
        return digest()
    if command == "tamper":
        local_names()
        return tamper(rest[0] if rest else "change", rest[1] if len(rest) > 1 else None)
    if command in ("verify", "export") and len(rest) >= 2:
        first, last, *extra = rest
        prefix = ["export"] if command == "export" else []
        return verify([*prefix, "--from", first, "--to", last, *deployment(extra), *extra])
    print(__doc__)
    return 2


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]))

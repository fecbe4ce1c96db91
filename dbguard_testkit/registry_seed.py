"""Many registered databases in every rotation state, written straight into the registry table as
cmdb_sync and the rotation leave them (docs/registry.md): for the rotation status's tests and bench."""

from __future__ import annotations

from typing import Any

from dbguard.adapters.dynamodb import to_item

DAY = 86_400
PERMISSION_MISSING = (
    "JumpServerPermissionMissing: JumpServer answered HTTP 400 to a connection token perm_account_invalid: "
    "Account not found"
)
UNAVAILABLE = "JumpServerUnavailable: JumpServer is unreachable for a connection token (ConnectTimeout)"


def registry_item(index: int, now: int) -> dict[str, Any]:
    """The database `db-<index>`, in the state its last digit picks under the default settings (a 7-day
    window, an hourly schedule): 0 expired a day ago, 1 never given a token (its first one failed),
    2 failing with 1 to 3 days left (every other one for a missing permission), 3 due (just inside the
    window), 4 overdue (a day inside it), 5-9 fine (8 to 30 days left)."""
    name = f"db-{index:05d}"
    item: dict[str, Any] = {
        "cmdbId": f"cmdb-{index:05d}", "name": name, "status": "active", "version": 1,
        "engine": "qhb", "host": f"10.1.{index // 250}.{index % 250}", "port": 5432, "database": "app",
        "environment": "prod", "labels": {}, "assetId": f"00000000-0000-4000-8000-{index:012d}",
        "account": {"id": f"acc-{index}", "name": "dbguard", "username": "app"}, "protocol": "postgresql",
        "dueKey": "active", "dueAt": 0,
    }  # fmt: skip
    kind, spread = index % 10, (index * 7919) % DAY
    if kind == 1:
        return {**item, "lastRotationError": UNAVAILABLE}
    left = {0: -DAY, 2: DAY + 2 * spread, 3: 7 * DAY - 600, 4: 6 * DAY}.get(kind, 8 * DAY + 22 * spread)
    expires = now + left
    rotated = {
        "currentTokenId": f"tok-{index}", "currentTokenExpiresAt": expires, "dueAt": expires,
        "lastRotatedAt": expires - 30 * DAY, "secretArn": f"arn:aws:secretsmanager:::secret:{name}",
    }  # fmt: skip
    if kind == 2:
        rotated["lastRotationError"] = PERMISSION_MISSING if index % 20 == 2 else UNAVAILABLE
    return {**item, **rotated}


def seed_registry(dynamodb: Any, table: str, count: int, now: int) -> None:
    """`count` databases (registry_item) in the registry table, 25 to a BatchWriteItem."""
    items = [registry_item(index, now) for index in range(count)]
    for start in range(0, count, 25):
        requests = [{"PutRequest": {"Item": to_item(item)}} for item in items[start : start + 25]]
        unprocessed = {table: requests}
        while unprocessed:
            unprocessed = dynamodb.batch_write_item(RequestItems=unprocessed).get("UnprocessedItems")

"""DynamoDB access for the registry.

cmdb_sync and the rotation each write only their own attributes (UpdateItem, never a whole-item
put), so neither can overwrite what the other wrote a moment before. A per-database lease
serialises the two. The CMDB version is recorded last, once a change is applied in full: a change
that failed half-way is retried, not ignored as stale.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from dbguard.adapters import aws
from dbguard.adapters.dynamodb import error_code, from_item, to_item
from dbguard.registry.lease import Lease, LeaseBusy, LeaseLost
from dbguard.registry.models import EntryStatus, RegistryEntry, RotationStateChange, named
from dbguard.registry.ports import StaleChange

BY_NAME_INDEX = "byName"
BY_DUE_INDEX = "byDue"
DUE_KEY = "active"  # the sparse byDue index holds active entries only

_CMDB_ATTRIBUTES = (
    "name", "status", "changedAt", "engine", "host", "port", "database", "environment", "labels",
    "assetId", "account", "protocol", "lastSyncError",
)  # fmt: skip


class Registry:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._dynamodb = dynamodb

    @classmethod
    def create(cls, table_name: str) -> Registry:
        return cls(table_name, aws.client("dynamodb"))

    # ---------------------------------------------------------------- reads
    def get(self, cmdb_id: str) -> RegistryEntry | None:
        """The entry, or None when the database was never registered."""
        return _entry(self._item(cmdb_id))

    def _item(self, cmdb_id: str) -> dict[str, Any]:
        response = self._dynamodb.get_item(TableName=self._table, Key=_key(cmdb_id), ConsistentRead=True)
        return from_item(response.get("Item", {}))

    def by_name(self, name: str) -> RegistryEntry | None:
        response = self._dynamodb.query(
            TableName=self._table,
            IndexName=BY_NAME_INDEX,
            KeyConditionExpression="#name = :name",
            ExpressionAttributeNames={"#name": "name"},
            ExpressionAttributeValues=to_item({":name": name}),
        )
        # the index holds keys only and can lag: the table is the truth
        entries = (self.get(from_item(item)["cmdbId"]) for item in response["Items"])
        return named(name, entries)

    def due(self, expiring_before: int | None = None) -> Iterator[RegistryEntry]:
        """Active entries with a token, soonest expiry first; all of them when no bound is given."""
        condition = "dueKey = :active"
        values: dict[str, Any] = {":active": DUE_KEY}
        if expiring_before is not None:
            condition += " AND dueAt <= :before"
            values[":before"] = expiring_before
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=BY_DUE_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=to_item(values),
            ScanIndexForward=True,
        )
        for page in pages:
            for item in page["Items"]:
                entry = _entry(from_item(item))
                if entry is not None:
                    yield entry

    def count_active(self) -> int:
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=BY_DUE_INDEX,
            KeyConditionExpression="dueKey = :active",
            ExpressionAttributeValues=to_item({":active": DUE_KEY}),
            Select="COUNT",
        )
        return sum(page["Count"] for page in pages)

    # ---------------------------------------------------------------- cmdb_sync's writes
    def is_stale(self, cmdb_id: str, version: int) -> bool:
        """True when a change at least this new was applied in full (a delete seen before any
        upsert leaves only its version behind, and still makes older changes stale)."""
        applied = self._item(cmdb_id).get("version")
        return applied is not None and applied >= version

    def save_cmdb_state(self, entry: RegistryEntry) -> None:
        """Write the CMDB-owned attributes; refused if a version >= this one was applied meanwhile."""
        values = _attributes(entry, _CMDB_ATTRIBUTES)
        remove = [name for name in _CMDB_ATTRIBUTES if name not in values]
        if entry.is_active:
            values["dueKey"] = DUE_KEY
        else:
            remove.append("dueKey")
        # Until its first token exists an active entry is due at once, so a scheduled run retries a
        # registration whose first token could not be issued.
        self._update(entry.cmdb_id, values, remove, version_below=entry.version, unless_set={"dueAt": 0})

    def journal_asset(self, cmdb_id: str, asset_id: str) -> None:
        """Note an asset created for a database not registered yet, so a later change (which may
        carry another name) updates it instead of creating a second one."""
        self._dynamodb.update_item(
            TableName=self._table,
            Key=_key(cmdb_id),
            UpdateExpression="SET assetId = if_not_exists(assetId, :asset)",
            ExpressionAttributeValues=to_item({":asset": asset_id}),
        )

    def journalled_asset(self, cmdb_id: str) -> str | None:
        """The asset of a database whose registration has not been completed yet, if one was created."""
        return self._item(cmdb_id).get("assetId")

    def confirm_version(self, cmdb_id: str, version: int) -> bool:
        """Record that change `version` is applied in full; False if a newer one already is."""
        return self._update(cmdb_id, {"version": version}, [], version_below=version, refusal_is_error=False)

    def record_sync_error(self, cmdb_id: str, message: str) -> None:
        """Note why the last CMDB change failed, on a registered database only (never creates one)."""
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=_key(cmdb_id),
                UpdateExpression="SET lastSyncError = :message",
                ConditionExpression="attribute_exists(#name)",
                ExpressionAttributeNames={"#name": "name"},
                ExpressionAttributeValues=to_item({":message": message[:1000]}),
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    # ---------------------------------------------------------------- the rotation's writes
    def save_rotation_state(
        self, cmdb_id: str, change: RotationStateChange, *, release: Lease | None = None
    ) -> None:
        """Set (or, with None or [], remove) the rotation attributes the change names; with `release`,
        give up that lease in the same write (LeaseLost, nothing written, if another holder took it)."""
        attributes = change.attributes()
        values = {name: value for name, value in attributes.items() if value is not None and value != []}
        remove = [name for name in attributes if name not in values]
        if "currentTokenExpiresAt" in values:
            values["dueAt"] = values["currentTokenExpiresAt"]
        if release is None:
            self._update(cmdb_id, values, remove)
            return
        remove += ["leaseUntil", "leaseOwner"]
        if not self._update(cmdb_id, values, remove, lease_owner=release.owner, refusal_is_error=False):
            raise LeaseLost(cmdb_id)
        release.released = True

    # ---------------------------------------------------------------- leases
    @contextmanager
    def lease(self, cmdb_id: str, now: int, seconds: int) -> Iterator[Lease]:
        """Exclusive right to change this database for `seconds` (at least the longest function
        timeout, so a live holder never outlasts it; a crashed holder's lease simply runs out).
        Raises LeaseBusy while someone else holds it; renew it between steps."""
        lease = Lease(self, cmdb_id, uuid.uuid4().hex, seconds, renewed_at=now)
        try:
            taken = self._dynamodb.update_item(
                TableName=self._table,
                Key=_key(cmdb_id),
                UpdateExpression="SET leaseUntil = :until, leaseOwner = :owner",
                ConditionExpression="attribute_not_exists(leaseUntil) OR leaseUntil < :now",
                ExpressionAttributeValues=to_item(
                    {":until": now + seconds, ":owner": lease.owner, ":now": now}
                ),
                ReturnValues="ALL_NEW",  # the entry itself, without a read of its own
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise LeaseBusy(cmdb_id) from None
            raise
        lease.entry = _entry(from_item(taken["Attributes"]))
        try:
            yield lease
        finally:
            if not lease.released:
                self._release(cmdb_id, lease.owner)

    def renew_lease(self, cmdb_id: str, owner: str, until: int) -> None:
        """Extend a lease this owner still holds; LeaseLost if it ran out and someone took it."""
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=_key(cmdb_id),
                UpdateExpression="SET leaseUntil = :until",
                ConditionExpression="leaseOwner = :owner",
                ExpressionAttributeValues=to_item({":until": until, ":owner": owner}),
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise LeaseLost(cmdb_id) from None
            raise

    def _release(self, cmdb_id: str, owner: str) -> None:
        """Only the owner's own lease: one that ran out and was taken over is left to its new owner."""
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=_key(cmdb_id),
                UpdateExpression="REMOVE leaseUntil, leaseOwner",
                ConditionExpression="leaseOwner = :owner",
                ExpressionAttributeValues=to_item({":owner": owner}),
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    # ---------------------------------------------------------------- helpers
    def _update(
        self,
        cmdb_id: str,
        values: Mapping[str, Any],
        remove: list[str],
        *,
        version_below: int | None = None,
        refusal_is_error: bool = True,
        unless_set: Mapping[str, Any] | None = None,
        lease_owner: str | None = None,
    ) -> bool:
        unless_set = unless_set or {}
        names = {f"#a{index}": name for index, name in enumerate([*values, *unless_set, *remove])}
        placeholders = {name: placeholder for placeholder, name in names.items()}
        assignments = [f"{placeholders[name]} = :v{i}" for i, name in enumerate(values)]
        assignments += [
            f"{placeholders[name]} = if_not_exists({placeholders[name]}, :d{i})"
            for i, name in enumerate(unless_set)
        ]
        clauses = []
        if assignments:
            clauses.append("SET " + ", ".join(assignments))
        if remove:
            clauses.append("REMOVE " + ", ".join(placeholders[name] for name in remove))
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(cmdb_id),
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": names,
        }
        attribute_values = {f":v{i}": value for i, value in enumerate(values.values())}
        attribute_values.update({f":d{i}": value for i, value in enumerate(unless_set.values())})
        if version_below is not None:
            names["#version"] = "version"
            request["ConditionExpression"] = "attribute_not_exists(#version) OR #version < :version"
            attribute_values[":version"] = version_below
        if lease_owner is not None:  # one placeholder per name: the write may remove leaseOwner too
            owner = placeholders.setdefault("leaseOwner", "#owner")
            names[owner] = "leaseOwner"
            request["ConditionExpression"] = f"{owner} = :owner"
            attribute_values[":owner"] = lease_owner
        if attribute_values:
            request["ExpressionAttributeValues"] = to_item(attribute_values)
        try:
            self._dynamodb.update_item(**request)
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            if refusal_is_error:
                raise StaleChange(cmdb_id, version_below) from None
            return False
        return True


def _key(cmdb_id: str) -> dict[str, Any]:
    return to_item({"cmdbId": cmdb_id})


def _attributes(entry: RegistryEntry, names: tuple[str, ...]) -> dict[str, Any]:
    dumped = entry.model_dump(by_alias=True, mode="json", exclude_none=True)
    return {name: dumped[name] for name in names if name in dumped}


def _entry(values: Mapping[str, Any]) -> RegistryEntry | None:
    values = dict(values)
    if "name" not in values:  # only a lease or a rotation journal so far: not registered
        return None
    values.setdefault("status", EntryStatus.ACTIVE.value)
    return RegistryEntry.model_validate(values)

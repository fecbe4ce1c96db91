"""The registry in memory, kept as the DynamoDB table keeps it (registry/ports.py CmdbRegistry): one
item of attributes per database, each writer touching only its own attributes, a change refused when
a version at least as new was applied, and a lease per database that runs out at the time the
holder named (`now` + `seconds`: the caller's clock decides when it expired).

A holder killed inside the lease (an exception that is not an `Exception`, like dbguard_testkit/faults.py
Killed) leaves its lease behind, as a function that stopped would."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dbguard.registry.lease import Lease, LeaseBusy, LeaseLost
from dbguard.registry.models import EntryStatus, RegistryEntry, RotationStateChange, named
from dbguard.registry.ports import StaleChange

_CMDB_FIELDS = [
    name
    for name in RegistryEntry.model_fields
    if name not in RotationStateChange.model_fields and name not in ("cmdb_id", "version")
]
_CMDB_ATTRIBUTES = [RegistryEntry.model_fields[name].alias or name for name in _CMDB_FIELDS]


class FakeRegistry:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}  # cmdb id -> attributes, by the table's names
        self._conditional = threading.Lock()  # a conditional write is atomic, as DynamoDB's is

    # ------------------------------------------------------------------ reads
    def get(self, cmdb_id: str) -> RegistryEntry | None:
        item = self.items.get(cmdb_id, {})
        if "name" not in item:  # only a lease or a journal so far: not registered
            return None
        return RegistryEntry.model_validate({"status": EntryStatus.ACTIVE.value, **item, "cmdbId": cmdb_id})

    def by_name(self, name: str) -> RegistryEntry | None:
        return named(name, self._entries())

    def due(self, expiring_before: int | None = None) -> Iterator[RegistryEntry]:
        due = [
            (item["dueAt"], cmdb_id)
            for cmdb_id, item in self.items.items()
            if item.get("dueKey") and (expiring_before is None or item["dueAt"] <= expiring_before)
        ]
        for _, cmdb_id in sorted(due):
            entry = self.get(cmdb_id)
            if entry is not None:
                yield entry

    def count_active(self) -> int:
        return sum(bool(item.get("dueKey")) for item in self.items.values())

    # ------------------------------------------------------------------ cmdb_sync's writes
    def is_stale(self, cmdb_id: str, version: int) -> bool:
        applied = self.items.get(cmdb_id, {}).get("version")
        return applied is not None and applied >= version

    def save_cmdb_state(self, entry: RegistryEntry) -> None:
        self._refuse_unless_newer(entry.cmdb_id, entry.version)
        item = self._item(entry.cmdb_id)
        dumped = entry.model_dump(by_alias=True, mode="json", exclude_none=True)
        for attribute in _CMDB_ATTRIBUTES:
            if attribute in dumped:
                item[attribute] = dumped[attribute]
            else:
                item.pop(attribute, None)
        if entry.is_active:
            item["dueKey"] = "active"
        else:
            item.pop("dueKey", None)
        item.setdefault("dueAt", 0)  # due at once until its first token exists

    def journal_asset(self, cmdb_id: str, asset_id: str) -> None:
        self._item(cmdb_id).setdefault("assetId", asset_id)

    def journalled_asset(self, cmdb_id: str) -> str | None:
        return self.items.get(cmdb_id, {}).get("assetId")

    def confirm_version(self, cmdb_id: str, version: int) -> bool:
        if self.is_stale(cmdb_id, version):
            return False
        self._item(cmdb_id)["version"] = version
        return True

    def record_sync_error(self, cmdb_id: str, message: str) -> None:
        if "name" in self.items.get(cmdb_id, {}):
            self.items[cmdb_id]["lastSyncError"] = message[:1000]

    # ------------------------------------------------------------------ the rotation's writes
    def save_rotation_state(
        self, cmdb_id: str, change: RotationStateChange, *, release: Lease | None = None
    ) -> None:
        with self._conditional:
            item = self._item(cmdb_id)
            if release is not None:
                if item.get("leaseOwner") != release.owner:
                    raise LeaseLost(cmdb_id)
                del item["leaseUntil"], item["leaseOwner"]
                release.released = True
            for attribute, value in change.attributes().items():
                if value is None or value == []:
                    item.pop(attribute, None)
                else:
                    item[attribute] = value
            if change.current_token_expires_at is not None:
                item["dueAt"] = change.current_token_expires_at

    # ------------------------------------------------------------------ leases
    @contextmanager
    def lease(self, cmdb_id: str, now: int, seconds: int) -> Iterator[Lease]:
        lease = Lease(self, cmdb_id, uuid.uuid4().hex, seconds, renewed_at=now)
        with self._conditional:
            item = self._item(cmdb_id)
            if item.get("leaseUntil") is not None and item["leaseUntil"] >= now:
                raise LeaseBusy(cmdb_id)
            item.update(leaseUntil=now + seconds, leaseOwner=lease.owner)
            lease.entry = self.get(cmdb_id)
        try:
            yield lease
        except Exception:
            self._release(lease)
            raise
        self._release(lease)

    def renew_lease(self, cmdb_id: str, owner: str, until: int) -> None:
        with self._conditional:
            item = self.items.get(cmdb_id, {})
            if item.get("leaseOwner") != owner:
                raise LeaseLost(cmdb_id)
            item["leaseUntil"] = until

    def take_lease(self, cmdb_id: str, until: int) -> None:
        """Another holder (a CMDB change, a parallel run) holds the database until `until`."""
        self._item(cmdb_id).update(leaseUntil=until, leaseOwner="someone else")

    def _release(self, lease: Lease) -> None:
        with self._conditional:
            item = self.items.get(lease.cmdb_id, {})
            if not lease.released and item.get("leaseOwner") == lease.owner:
                del item["leaseUntil"], item["leaseOwner"]

    # ------------------------------------------------------------------ helpers
    def _item(self, cmdb_id: str) -> dict[str, Any]:
        return self.items.setdefault(cmdb_id, {})

    def _entries(self) -> Iterator[RegistryEntry]:
        return (entry for cmdb_id in list(self.items) if (entry := self.get(cmdb_id)) is not None)

    def _refuse_unless_newer(self, cmdb_id: str, version: int | None) -> None:
        if version is not None and self.is_stale(cmdb_id, version):
            raise StaleChange(cmdb_id, version)

"""What the services need from the registry of managed databases, as protocols.

cmdb_sync and the rotation each write only their own attributes, never a whole entry, so neither
overwrites what the other wrote a moment before; the lease (registry/lease.py) serialises them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from dbguard.registry.lease import Lease
from dbguard.registry.models import RegistryEntry, RotationStateChange


class StaleChange(Exception):
    """A change at least as new as this one was applied while this one was being processed."""

    def __init__(self, cmdb_id: str, version: int | None) -> None:
        super().__init__(f"{cmdb_id}: a change at least as new as version {version} is already applied")


class ActiveDatabases(Protocol):
    """The registry as the operators' status reads it."""

    def due(self, expiring_before: int | None = None) -> Iterator[RegistryEntry]:
        """Active entries, those without a token first, then the soonest expiry; all of them when no
        bound is given."""
        ...


class RotationRegistry(Protocol):
    def get(self, cmdb_id: str) -> RegistryEntry | None:
        """The entry, or None when the database was never registered."""
        ...

    def by_name(self, name: str) -> RegistryEntry | None:
        """The database called `name`: the active one if there is one, else a retired one."""
        ...

    def due(self, expiring_before: int | None = None) -> Iterator[RegistryEntry]:
        """Active entries with a token, soonest expiry first; all of them when no bound is given."""
        ...

    def count_active(self) -> int: ...

    def lease(self, cmdb_id: str, now: int, seconds: int) -> AbstractContextManager[Lease]:
        """Exclusive right to change this database for `seconds` from `now`: LeaseBusy while someone
        else holds it; released on leaving the block unless a write released it already. The lease
        carries the entry as taking it found it (`Lease.entry`)."""
        ...

    def save_rotation_state(
        self, cmdb_id: str, change: RotationStateChange, *, release: Lease | None = None
    ) -> None:
        """Write the attributes `change` names; a token expiry given also sets when the entry is due.
        With `release`, the same write gives up that lease - and writes nothing, raising LeaseLost, if
        the lease ran out and another holder took it."""
        ...


class CmdbRegistry(RotationRegistry, Protocol):
    def is_stale(self, cmdb_id: str, version: int) -> bool:
        """True when a change at least this new was applied in full."""
        ...

    def save_cmdb_state(self, entry: RegistryEntry) -> None:
        """Write the CMDB-owned attributes; StaleChange if a version >= this one was applied meanwhile."""
        ...

    def journal_asset(self, cmdb_id: str, asset_id: str) -> None:
        """Note an asset created for a database not registered yet (kept if one is noted already)."""
        ...

    def journalled_asset(self, cmdb_id: str) -> str | None: ...

    def confirm_version(self, cmdb_id: str, version: int) -> bool:
        """Record that change `version` is applied in full; False if a newer one already is."""
        ...

    def record_sync_error(self, cmdb_id: str, message: str) -> None:
        """Note why the last CMDB change failed, on a registered database only."""
        ...

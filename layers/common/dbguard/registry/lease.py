"""A per-database lease: whoever holds it is the only one changing that database (a rotation or a
CMDB change), for a term at least as long as the longest function timeout, so a live holder never
outlasts it and a crashed holder's lease simply runs out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dbguard.registry.models import RegistryEntry


class LeaseKeeper(Protocol):
    def renew_lease(self, cmdb_id: str, owner: str, until: int) -> None:
        """Extend a lease this owner still holds; LeaseLost if it ran out and someone took it."""
        ...


@dataclass
class Lease:
    """A held lease; `renew` between steps keeps it at least half a term ahead of the holder."""

    keeper: LeaseKeeper
    cmdb_id: str
    owner: str
    seconds: int
    renewed_at: int  # when it was last set to run a full term from then
    # the database as the write that took the lease left it (None: not registered): nobody else can
    # change it until the lease is given up, so the holder needs no read of its own
    entry: RegistryEntry | None = None
    released: bool = False  # given up by the holder's last write (registry ports save_rotation_state)

    def renew(self, now: float) -> None:
        # With over half a term left nobody can take it before the next step renews it (a step takes
        # far less than half the term), so a write now would be a round trip for nothing - five per
        # rotation. A holder that is late does write, and learns here if it lost the lease.
        if now - self.renewed_at < self.seconds / 2:
            return
        self.keeper.renew_lease(self.cmdb_id, self.owner, int(now) + self.seconds)
        self.renewed_at = int(now)


class LeaseBusy(Exception):
    """Another rotation or CMDB change is working on this database right now."""

    def __init__(self, cmdb_id: str) -> None:
        super().__init__(f"{cmdb_id}: another change to this database is in progress")


class LeaseLost(LeaseBusy):
    """This holder's lease ran out and another took it: stop before changing anything more."""

    def __init__(self, cmdb_id: str) -> None:
        Exception.__init__(self, f"{cmdb_id}: the lease ran out and another change took the database over")

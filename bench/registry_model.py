"""The registry as the rotation meets DynamoDB in production: the table's rules, one round trip per
request, and none of the table's own work on the rotation's CPU.

In-process moto parses and checks every UpdateExpression on the caller's CPU (its validator walks the
expression once per action: 6-10 ms a write on this machine), under the same interpreter lock as the
rotation's eight workers; DynamoDB does that work elsewhere and answers in single-digit
milliseconds. So the rules come from dbguard_testkit/fakes/registry.py, which tests/integration/registry
proves against moto with the same tests as the DynamoDB adapter, and each request waits one round
trip, taken at the top of DynamoDB's single-digit range.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from dbguard.registry.lease import Lease
from dbguard.registry.models import RegistryEntry, RotationStateChange
from dbguard_testkit.fakes.registry import FakeRegistry

ROUND_TRIP_SECONDS = 0.01


class RegistryOverNetwork:
    """The RotationRegistry port with DynamoDB's rules and a round trip per request (counted)."""

    def __init__(self, round_trip_seconds: float = ROUND_TRIP_SECONDS) -> None:
        self._table = FakeRegistry()
        self._round_trip_seconds = round_trip_seconds
        self._counting = threading.Lock()  # eight workers count at once
        self.requests = 0

    def _round_trip(self) -> None:
        with self._counting:
            self.requests += 1
        time.sleep(self._round_trip_seconds)

    # ---------------------------------------------------------------- seeding, not timed
    def save_cmdb_state(self, entry: RegistryEntry) -> None:
        self._table.save_cmdb_state(entry)

    # ---------------------------------------------------------------- the rotation's requests
    def get(self, cmdb_id: str) -> RegistryEntry | None:
        self._round_trip()
        return self._table.get(cmdb_id)

    def by_name(self, name: str) -> RegistryEntry | None:
        self._round_trip()
        return self._table.by_name(name)

    def due(self, expiring_before: int | None = None) -> Iterator[RegistryEntry]:
        self._round_trip()  # one page: a thousand entries are well under DynamoDB's 1 MB page
        return self._table.due(expiring_before)

    def count_active(self) -> int:
        self._round_trip()
        return self._table.count_active()

    @contextmanager
    def lease(self, cmdb_id: str, now: int, seconds: int) -> Iterator[Lease]:
        self._round_trip()
        with self._table.lease(cmdb_id, now, seconds) as lease:
            lease.keeper = self  # renewals are requests too
            try:
                yield lease
            finally:
                if not lease.released:
                    self._round_trip()  # the release is a write of its own

    def renew_lease(self, cmdb_id: str, owner: str, until: int) -> None:
        self._round_trip()
        self._table.renew_lease(cmdb_id, owner, until)

    def save_rotation_state(
        self, cmdb_id: str, change: RotationStateChange, *, release: Lease | None = None
    ) -> None:
        self._round_trip()
        self._table.save_rotation_state(cmdb_id, change, release=release)

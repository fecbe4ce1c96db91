"""What an operator asks of the rotation: for every active database, when its token expires, when
the schedule next rotates it, what went wrong last and whether JumpServer's permission held, the
databases that need someone first (GET /rotation/databases, `make status`; docs/rotation.md,
"Rotation status"). Everything comes from the registry: no JumpServer or Secrets Manager request."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from dbguard.query_string import parse_query_string
from dbguard.registry.models import RegistryEntry

DEFAULT_LIMIT, MAX_LIMIT = 1000, 10_000


class TokenState(StrEnum):
    """Most urgent first: the order of the answer."""

    EXPIRED = "expired"  # the current token has expired: applications cannot connect
    NO_TOKEN = "no_token"  # noqa: S105 - a state: registered without a token (its first one failed)
    FAILING = "failing"  # the last rotation failed; the token still works until it expires
    OVERDUE = "overdue"  # due for longer than a schedule interval, yet not rotated (runs deferred it)
    DUE = "due"  # within RotationWindowSeconds of its expiry: the next run rotates it
    OK = "ok"


class PermissionState(StrEnum):
    """What the registry knows of JumpServer's leave to issue this database's tokens."""

    MISSING = "missing"  # the last error: no asset permission covers it (perm_account_invalid)
    DENIED = "denied"  # the last error: the service user's key or role was refused (401/403)
    CONFIRMED = "confirmed"  # the last rotation issued a token, so the permission held then
    UNKNOWN = "unknown"  # no rotation has succeeded yet, and no error says


# How the errors dbguard records name these refusals: JumpServer's own code and statuses
# (adapters/jumpserver/errors.py writes "JumpServer answered HTTP <status> to <what> <code>: ...")
_MISSING = ("perm_account_invalid", "PermissionMissing")
_DENIED = ("JumpServerAuthError", "answered HTTP 401", "answered HTTP 403")


class DatabaseStatus(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    name: str
    cmdb_id: str = Field(alias="cmdbId")
    engine: str
    environment: str
    asset_id: str = Field(alias="assetId", description="the JumpServer asset")
    state: TokenState
    token_expires_at: str | None = Field(alias="tokenExpiresAt", description="the current token's expiry")
    seconds_left: int | None = Field(alias="secondsLeft", description="until that expiry; negative: expired")
    next_due_at: str | None = Field(
        alias="nextDueAt", description="when the schedule rotates it: the expiry minus RotationWindowSeconds"
    )
    last_rotated_at: str | None = Field(alias="lastRotatedAt")
    last_rotation_error: str | None = Field(alias="lastRotationError", description="why the last one failed")
    last_sync_error: str | None = Field(alias="lastSyncError", description="why the last CMDB change failed")
    permission: PermissionState


class RotationStatusAnswer(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    generated_at: str = Field(alias="generatedAt")
    window_seconds: int = Field(alias="windowSeconds", description="RotationWindowSeconds")
    total: int = Field(description="active databases")
    counts: dict[TokenState, int] = Field(description="active databases in each state")
    databases: list[DatabaseStatus] = Field(description="most urgent first, at most `limit`")


class StatusQuery(BaseModel):
    """The query string of GET /rotation/databases (the OpenAPI document's parameters too)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="databases answered")

    @classmethod
    def of_query_string(cls, parameters: Mapping[str, Sequence[str]]) -> StatusQuery:
        return parse_query_string(cls, parameters)


@dataclass(frozen=True)
class StatusRules:
    window_seconds: int  # RotationWindowSeconds: a token is due this long before it expires
    schedule_seconds: int  # between scheduled runs: a due token is rotated within this

    def status_of(self, entry: RegistryEntry, now: int) -> DatabaseStatus:
        expires = entry.current_token_expires_at
        next_due = None if expires is None else expires - self.window_seconds
        return DatabaseStatus(
            name=entry.name,
            cmdb_id=entry.cmdb_id,
            engine=entry.engine,
            environment=entry.environment,
            asset_id=entry.asset_id,
            state=self._state(entry, now),
            token_expires_at=_iso(expires),
            seconds_left=None if expires is None else expires - now,
            next_due_at=_iso(next_due),
            last_rotated_at=_iso(entry.last_rotated_at),
            last_rotation_error=entry.last_rotation_error,
            last_sync_error=entry.last_sync_error,
            permission=permission_state(entry),
        )

    def _state(self, entry: RegistryEntry, now: int) -> TokenState:
        expires = entry.current_token_expires_at
        if expires is None:
            return TokenState.NO_TOKEN
        if expires <= now:
            return TokenState.EXPIRED
        if entry.last_rotation_error:
            return TokenState.FAILING
        due = expires - self.window_seconds
        if now >= due + self.schedule_seconds:
            return TokenState.OVERDUE
        return TokenState.DUE if now >= due else TokenState.OK

    def answer(self, entries: Iterable[RegistryEntry], now: int, limit: int) -> RotationStatusAnswer:
        statuses = sorted((self.status_of(entry, now) for entry in entries), key=urgency)
        counts = Counter(status.state for status in statuses)
        return RotationStatusAnswer(
            generated_at=_iso(now) or "",
            window_seconds=self.window_seconds,
            total=len(statuses),
            counts={state: counts[state] for state in TokenState},
            databases=statuses[:limit],
        )


_RANK = {state: rank for rank, state in enumerate(TokenState)}


def urgency(status: DatabaseStatus) -> tuple[int, int, str]:
    """Worst state first, then the soonest expiry, then by name."""
    left = status.seconds_left if status.seconds_left is not None else -(2**62)
    return _RANK[status.state], left, status.name


def permission_state(entry: RegistryEntry) -> PermissionState:
    errors = [error for error in (entry.last_rotation_error, entry.last_sync_error) if error]
    if any(mark in error for error in errors for mark in _MISSING):
        return PermissionState.MISSING
    if any(mark in error for error in errors for mark in _DENIED):
        return PermissionState.DENIED
    if entry.last_rotated_at is not None and not entry.last_rotation_error:
        return PermissionState.CONFIRMED
    return PermissionState.UNKNOWN


def _iso(epoch_seconds: int | None) -> str | None:
    if epoch_seconds is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))

"""A managed database as the registry stores it (attribute names are the table's)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dbguard.jumpserver import JumpServerAccount


class EntryStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class RotationState(BaseModel):
    """The attributes only the rotation writes (cmdb_sync's never overlap them)."""

    # never validated itself, only its subclasses: building its schema would be cold start lost
    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    secret_arn: str | None = Field(default=None, alias="secretArn")
    current_token_id: str | None = Field(default=None, alias="currentTokenId")
    # the AWSCURRENT version holding current_token_id: a version's value never changes, so while that
    # version is still AWSCURRENT the next rotation knows its token without reading the value
    current_version_id: str | None = Field(default=None, alias="currentVersionId")
    current_token_expires_at: int | None = Field(default=None, alias="currentTokenExpiresAt")
    previous_token_id: str | None = Field(default=None, alias="previousTokenId")
    pending_token_id: str | None = Field(default=None, alias="pendingTokenId")
    retired_token_ids: list[str] = Field(default_factory=list, alias="retiredTokenIds")
    last_rotated_at: int | None = Field(default=None, alias="lastRotatedAt")
    last_rotation_error: str | None = Field(default=None, alias="lastRotationError")
    # failed attempts since the last rotation that completed (reset by it): Rotation Failed's `attempts`
    rotation_failures: int | None = Field(default=None, alias="rotationFailures")
    # the AWSPENDING version whose rotation failed last: the scheduler waiting on it learns it failed
    failed_version_id: str | None = Field(default=None, alias="failedVersionId")
    # an operator forced the rotation Secrets Manager runs next (within ConsumerCacheSeconds)
    force_next_rotation: bool | None = Field(default=None, alias="forceNextRotation")
    # the last failure was JumpServer refusing dbguard itself (errors.ServiceRefused): the run stops
    service_refused: bool | None = Field(default=None, alias="serviceRefused")


class RotationStateChange(RotationState):
    """Rotation attributes to write: exactly those passed to the constructor (None or [] removes
    one); the others are left as they are, whatever another writer set meanwhile."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid", defer_build=False)

    def attributes(self) -> dict[str, Any]:
        """The attributes this change writes, by their table names."""
        return self.model_dump(by_alias=True, include=self.model_fields_set)

    def merged(self, later: RotationStateChange) -> RotationStateChange:
        """This change and `later` as one write (`later` wins where both name an attribute)."""
        return self.model_copy(update={name: getattr(later, name) for name in later.model_fields_set})


class RegistryEntry(RotationState):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore", defer_build=False)

    # written by cmdb_sync when a CMDB change has been applied in full
    cmdb_id: str = Field(alias="cmdbId")
    name: str
    status: EntryStatus = EntryStatus.ACTIVE
    version: int | None = None
    changed_at: str | None = Field(default=None, alias="changedAt")
    engine: str
    host: str
    port: int
    database: str
    environment: str
    labels: dict[str, str] = Field(default_factory=dict)
    asset_id: str = Field(alias="assetId")
    account: JumpServerAccount
    protocol: str
    last_sync_error: str | None = Field(default=None, alias="lastSyncError")

    @property
    def is_active(self) -> bool:
        return self.status is EntryStatus.ACTIVE


def named(name: str, entries: Iterable[RegistryEntry | None]) -> RegistryEntry | None:
    """The database called `name`: the active one, else a retired one (a name is reused after its
    database was retired or renamed, and a retired entry keeps its name)."""
    matching = [entry for entry in entries if entry is not None and entry.name == name]
    return next((entry for entry in matching if entry.is_active), next(iter(matching), None))

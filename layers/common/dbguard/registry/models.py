"""A managed database as the registry stores it (attribute names are the table's)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class EntryStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class JumpServerAccount(BaseModel):
    """The account connection tokens are issued for: a token names it by its name (v3) or id (v4.9+),
    an asset permission by its username (entries registered before dbguard kept it have none)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str
    name: str
    username: str | None = None


class RegistryEntry(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

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

    # written by the rotation
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

    @property
    def is_active(self) -> bool:
        return self.status is EntryStatus.ACTIVE

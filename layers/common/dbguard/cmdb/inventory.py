"""What dbguard reads and sets in JumpServer's inventory for a database: its asset, and where the
database account JumpServer logs in with comes from.

Field names are JumpServer's where they name one of its fields (docs/jumpserver.md).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

# Every model here is built on first use (defer_build): only cmdb_sync's upserts need them;
# token_rotation imports them with the JumpServer client but never uses them (cold start).


class AssetProtocol(BaseModel):
    """A protocol of an asset; JumpServer needs the port with it (a protocol without one is a 500)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    port: int = Field(ge=1, le=65535)


class DatabaseAssetFields(BaseModel):
    """What dbguard may set on a database asset, created or updated. A field left unset (None) is
    not sent, so an update keeps what JumpServer has."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str | None = None
    address: str | None = None
    db_name: str | None = None
    is_active: bool | None = None
    platform: int | None = None  # the platform's numeric id: JumpServer answers a name with a 500
    nodes: list[str] | None = None  # node ids
    protocols: list[AssetProtocol] | None = None
    labels: dict[str, str] | None = None


class DatabaseAsset(BaseModel):
    """A database asset as JumpServer holds it (what dbguard reads of it)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    id: str
    name: str
    address: str
    db_name: str | None = None
    is_active: bool = True
    labels: dict[str, str] = Field(default_factory=dict)


class DatabaseCredentials(BaseModel):
    """The database account JumpServer logs in with, as the CMDB event's credentials secret holds it."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    username: str = Field(min_length=1, max_length=128)
    password: SecretStr = Field(min_length=1, max_length=4096)


class AccountTemplate(BaseModel):
    """A JumpServer account template: the account gets the template's name, username and secret."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str = Field(min_length=1)


AccountSource = DatabaseCredentials | AccountTemplate

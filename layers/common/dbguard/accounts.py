"""The JumpServer account a database's connection tokens are issued for: the registry records it,
the rotation and the JumpServer client pass it along."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class JumpServerAccount(BaseModel):
    """A token names the account by its name (v3) or id (v4.9+), an asset permission by its username
    (entries registered before dbguard kept it have none)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str
    name: str
    username: str | None = None

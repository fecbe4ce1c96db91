"""What the rotation needs from JumpServer and from the engine map, as protocols."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import SecretStr

from dbguard.registry.models import JumpServerAccount, RegistryEntry
from dbguard.secrets.contract import DatabaseSecret


class IssuedToken(Protocol):
    id: str
    value: SecretStr
    date_expired: datetime
    is_expired: bool
    is_reusable: bool


class ConnectionTokens(Protocol):
    def create_connection_token(
        self, asset_id: str, account: JumpServerAccount, protocol: str
    ) -> IssuedToken: ...

    def make_token_reusable(self, token: IssuedToken) -> IssuedToken: ...

    def get_connection_token(self, token_id: str) -> IssuedToken | None: ...

    def expire_connection_token(self, token_id: str) -> None: ...

    def ensure_permission(self, asset_id: str, account: JumpServerAccount) -> None: ...


class SecretShaper(Protocol):
    def __call__(self, entry: RegistryEntry, token: IssuedToken) -> DatabaseSecret: ...

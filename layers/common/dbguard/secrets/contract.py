"""The database secret applications read (contract in docs/rotation.md).

`engine host port username password dbname` follow the AWS RDS secret convention, so AWS's
Secrets Manager JDBC driver and caching clients read it unchanged; the user name and password are
a JumpServer connection token's id and value, valid through the JumpServer DB proxy.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_serializer

from dbguard.engines import EngineProfile
from dbguard.errors import ConfigurationError, SecretUnreadable
from dbguard.validation import describe

if TYPE_CHECKING:
    from dbguard.jumpserver import IssuedToken
    from dbguard.registry.models import RegistryEntry


class DatabaseSecret(BaseModel):
    model_config = ConfigDict(frozen=True)

    engine: str
    host: str
    port: int = Field(ge=1, le=65535)
    dbname: str
    username: str  # the connection token's id
    password: SecretStr  # the connection token's value
    expires_at: datetime
    jumpserver_asset_id: str
    token_id: str

    @field_serializer("expires_at")
    def _utc_with_z(self, moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def secret_string(self) -> str:
        """The JSON stored in Secrets Manager: the only place the token value is revealed."""
        document = self.model_dump(mode="json")
        document["password"] = self.password.get_secret_value()
        return json.dumps(document)

    @classmethod
    def from_secret_string(cls, text: str, secret_id: str) -> DatabaseSecret:
        """The value as dbguard wrote it; SecretUnreadable naming the fields (never the value, which
        holds a password) when it is not."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as error:
            raise SecretUnreadable(
                f"{secret_id} does not hold a dbguard database secret ({describe(error)})"
            ) from None


class ProxyEndpoint(BaseModel):
    """Where applications connect: the JumpServer DB proxy, one port per protocol."""

    model_config = ConfigDict(frozen=True)

    host: str
    default_port: int | None = None

    def port_for(self, profile: EngineProfile) -> int:
        port = profile.proxy_port or self.default_port
        if port is None:
            raise ConfigurationError(
                f"no DB proxy port for protocol {profile.protocol}: set proxyPort in EngineMap or "
                "JumpServerProxyPort"
            )
        return port


def shape_secret(
    entry: RegistryEntry, token: IssuedToken, profile: EngineProfile, proxy: ProxyEndpoint
) -> DatabaseSecret:
    return DatabaseSecret(
        engine=profile.rds_engine,
        host=proxy.host,
        port=proxy.port_for(profile),
        dbname=entry.database,
        username=token.id,
        password=token.value,
        expires_at=token.date_expired,
        jumpserver_asset_id=entry.asset_id,
        token_id=token.id,
    )

"""How a CMDB `engine` maps to JumpServer (platform, protocol) and to the database secret.

QHB speaks the PostgreSQL protocol, so `qhb` is a PostgreSQL asset. The map is a setting
(ENGINE_MAP, JSON) merged over these defaults, so an operator can add engines or point one at a
DB proxy port of its own. The proxy ports are Magnus's defaults (MAGNUS_*_PORT in JumpServer's
config.txt); Oracle gets a port range there, so its port comes from JUMPSERVER_PROXY_PORT.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EngineProfile(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    platform: str  # JumpServer platform name (ids differ per install: looked up by name)
    protocol: str  # JumpServer protocol, also the connection token's protocol
    rds_engine: str = Field(alias="secretEngine")  # the "engine" key of the database secret (RDS names)
    proxy_port: int | None = Field(
        default=None, ge=1, le=65535, alias="proxyPort"
    )  # else JUMPSERVER_PROXY_PORT


_POSTGRESQL = EngineProfile(
    platform="PostgreSQL", protocol="postgresql", rds_engine="postgres", proxy_port=54320
)

DEFAULT_ENGINES: dict[str, EngineProfile] = {
    "qhb": _POSTGRESQL,
    "postgresql": _POSTGRESQL,
    "postgres": _POSTGRESQL,
    "mysql": EngineProfile(platform="MySQL", protocol="mysql", rds_engine="mysql", proxy_port=33061),
    "mariadb": EngineProfile(platform="MariaDB", protocol="mariadb", rds_engine="mariadb", proxy_port=33062),
    "oracle": EngineProfile(platform="Oracle", protocol="oracle", rds_engine="oracle"),
    "sqlserver": EngineProfile(
        platform="SQLServer", protocol="sqlserver", rds_engine="sqlserver", proxy_port=14330
    ),
}

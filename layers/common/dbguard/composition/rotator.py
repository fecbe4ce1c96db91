"""The rotation's parts put together from settings, for token_rotation and cmdb_sync alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import Field, Json

from dbguard.adapters.event_bus import DefaultEventBus
from dbguard.composition.settings import EnvSettings
from dbguard.engines import DEFAULT_ENGINES, EngineProfile
from dbguard.errors import ConfigurationError
from dbguard.jumpserver import IssuedToken
from dbguard.operator_events import OperatorEvents
from dbguard.registry.models import RegistryEntry
from dbguard.registry.ports import RotationRegistry
from dbguard.rotation.ports import ConnectionTokens
from dbguard.secrets.contract import DatabaseSecret, ProxyEndpoint, shape_secret
from dbguard.secrets.ports import DatabaseSecretStore, RotationConfig
from dbguard.services.rotator import Rotator


class RegistrySettings(EnvSettings):
    """The registry of managed databases, their secrets and how a rotation writes them: cmdb_sync
    writes a database's first secret, token_rotation every later one."""

    registry_table_name: str = Field(alias="REGISTRY_TABLE_NAME")
    secrets_prefix: str = Field(
        default="dbguard/db", pattern=r"^[A-Za-z0-9/_+=.@-]{1,200}$", alias="SECRETS_PREFIX"
    )
    engine_map: Json[dict[str, EngineProfile]] = Field(default_factory=dict, alias="ENGINE_MAP")
    jumpserver_proxy_host: str = Field(alias="JUMPSERVER_PROXY_HOST")
    jumpserver_proxy_port: int | None = Field(default=None, ge=1, le=65535, alias="JUMPSERVER_PROXY_PORT")
    # the AWS caching clients docs/applications.md recommends keep a secret for an hour by default
    consumer_cache_seconds: int = Field(default=3600, ge=0, le=86400, alias="CONSUMER_CACHE_SECONDS")
    # at least the longest timeout of the functions that take the lease (the template sets it to the
    # rotation's timeout; cmdb_sync's is shorter), so a running holder never loses it
    rotation_lease_seconds: int = Field(default=900, ge=60, le=900, alias="ROTATION_LEASE_SECONDS")
    # token_rotation, fixed by name (template.yaml), so the secrets configured with it keep it
    rotation_function_arn: str = Field(pattern=r"^arn:aws[a-z-]*:lambda:", alias="ROTATION_FUNCTION_ARN")
    # Secrets Manager's own schedule for the secrets: a backstop dbguard's schedule beats (policy.py)
    secrets_manager_rotation_days: int = Field(
        default=26, ge=1, le=1000, alias="SECRETS_MANAGER_ROTATION_DAYS"
    )

    @property
    def rotation(self) -> RotationConfig:
        return RotationConfig(self.rotation_function_arn, self.secrets_manager_rotation_days)

    @property
    def engines(self) -> dict[str, EngineProfile]:
        """The built-in engine map with the operator's ENGINE_MAP merged over it."""
        return {**DEFAULT_ENGINES, **{name.lower(): profile for name, profile in self.engine_map.items()}}


def build_rotator(
    settings: RegistrySettings,
    tokens: ConnectionTokens,
    registry: RotationRegistry,
    secrets: DatabaseSecretStore,
    clock: Callable[[], datetime] | None = None,
    *,
    events: OperatorEvents | None = None,
) -> Rotator:
    """`clock`: another clock than the system's (a chaos run skips ahead in time); `events`: where
    Rotation Failed and Recovered go (the default bus unless given)."""
    engines = settings.engines
    proxy = ProxyEndpoint(host=settings.jumpserver_proxy_host, default_port=settings.jumpserver_proxy_port)

    def shape(entry: RegistryEntry, token: IssuedToken) -> DatabaseSecret:
        profile = engines.get(entry.engine)
        if profile is None:
            raise ConfigurationError(
                f"engine {entry.engine!r} of {entry.name} is no longer in the engine map"
            )
        return shape_secret(entry, token, profile, proxy)

    timing: dict[str, Any] = {"clock": clock} if clock else {}
    return Rotator(
        tokens, secrets, registry, shape,
        lease_seconds=settings.rotation_lease_seconds,
        min_interval_seconds=settings.consumer_cache_seconds, events=events or DefaultEventBus(), **timing,
    )  # fmt: skip

"""The rotation's parts put together from settings, for token_rotation and cmdb_sync alike."""

from __future__ import annotations

from dbguard.adapters.registry_store import Registry
from dbguard.adapters.secrets_store import DatabaseSecrets
from dbguard.composition.settings import Settings
from dbguard.errors import ConfigurationError
from dbguard.registry.models import RegistryEntry
from dbguard.rotation.ports import ConnectionTokens, IssuedToken
from dbguard.rotation.rotator import Rotator
from dbguard.secrets.contract import DatabaseSecret, ProxyEndpoint, shape_secret

ROTATION_SETTINGS = ("registry_table_name", "jumpserver_proxy_host")


def build_rotator(
    settings: Settings, tokens: ConnectionTokens, registry: Registry, secrets: DatabaseSecrets
) -> Rotator:
    engines = settings.engines
    proxy = ProxyEndpoint(host=settings.jumpserver_proxy_host, default_port=settings.jumpserver_proxy_port)

    def shape(entry: RegistryEntry, token: IssuedToken) -> DatabaseSecret:
        profile = engines.get(entry.engine)
        if profile is None:
            raise ConfigurationError(
                f"engine {entry.engine!r} of {entry.name} is no longer in the engine map"
            )
        return shape_secret(entry, token, profile, proxy)

    return Rotator(
        tokens, secrets, registry, shape,
        lease_seconds=settings.rotation_lease_seconds,
        min_interval_seconds=settings.consumer_cache_seconds,
    )  # fmt: skip

"""cmdb_sync's parts put together from settings (at cold start)."""

from __future__ import annotations

from dbguard.adapters import aws
from dbguard.adapters.cmdb_credentials import CredentialsReader
from dbguard.adapters.jumpserver.client import JUMPSERVER_SETTINGS, JumpServerClient
from dbguard.adapters.registry_store import Registry
from dbguard.adapters.secrets_store import DatabaseSecrets
from dbguard.cmdb.sync import CmdbSync, SyncOptions
from dbguard.composition.rotator import ROTATION_SETTINGS, build_rotator
from dbguard.composition.settings import Settings

CMDB_SYNC_SETTINGS = (*ROTATION_SETTINGS, *JUMPSERVER_SETTINGS, "cmdb_dead_letter_queue_url")


def build_cmdb_sync(settings: Settings) -> CmdbSync:
    secretsmanager = aws.client("secretsmanager")
    jumpserver = JumpServerClient.from_settings(settings, secretsmanager)
    registry = Registry.create(settings.registry_table_name)
    secrets = DatabaseSecrets(secretsmanager, settings.secrets_prefix)
    options = SyncOptions(
        node_path_template=settings.node_path_template,
        account_name=settings.account_name,
        account_template_id=settings.account_template_id,
        hard_delete_assets=settings.hard_delete_assets,
        secret_recovery_window_days=settings.secret_recovery_window_days,
        lease_seconds=settings.rotation_lease_seconds,
    )
    return CmdbSync(
        jumpserver,
        registry,
        secrets,
        CredentialsReader(secretsmanager),
        build_rotator(settings, jumpserver, registry, secrets),
        settings.engines,
        options,
    )

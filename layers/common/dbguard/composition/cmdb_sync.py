"""cmdb_sync's object graph, built once per cold start from its settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from dbguard.adapters import aws
from dbguard.adapters.cmdb_credentials import CredentialsReader
from dbguard.adapters.dead_letters import DeadLetters
from dbguard.adapters.event_bus import DefaultEventBus
from dbguard.adapters.jumpserver.client import JumpServerClient
from dbguard.adapters.jumpserver.transport import RequestTally
from dbguard.adapters.registry_store import Registry
from dbguard.adapters.secrets_store import DatabaseSecrets
from dbguard.composition.jumpserver import JumpServerSettings, build_jumpserver
from dbguard.composition.rotator import RegistrySettings, build_rotator
from dbguard.services.cmdb_queue import CmdbQueue
from dbguard.services.cmdb_sync import CmdbSync, SyncOptions
from dbguard.snapstart import register_restore_hooks


class CmdbSyncSettings(JumpServerSettings, RegistrySettings):
    node_path_template: str = Field(
        default="dbguard/{environment}",
        pattern=r"^[^{}]*(\{environment\}[^{}]*)*$",
        alias="NODE_PATH_TEMPLATE",
    )
    account_name: str = Field(
        default="dbguard", min_length=1, max_length=128, alias="JUMPSERVER_ACCOUNT_NAME"
    )
    account_template_id: str | None = Field(default=None, alias="JUMPSERVER_ACCOUNT_TEMPLATE_ID")
    hard_delete_assets: bool = Field(default=False, alias="HARD_DELETE_ASSETS")
    secret_recovery_window_days: int = Field(default=30, ge=7, le=30, alias="SECRET_RECOVERY_WINDOW_DAYS")
    cmdb_dead_letter_queue_url: str = Field(alias="CMDB_DEAD_LETTER_QUEUE_URL")
    cmdb_max_event_bytes: int = Field(default=65_536, ge=1024, le=262_144, alias="CMDB_MAX_EVENT_BYTES")
    # the queue's maxReceiveCount: a change failing at this receive is announced, SQS dead-letters it
    cmdb_max_receive_count: int = Field(default=5, ge=1, le=1000, alias="CMDB_MAX_RECEIVE_COUNT")


@dataclass(frozen=True)
class CmdbSyncParts:
    settings: CmdbSyncSettings
    sync: CmdbSync
    queue: CmdbQueue
    jumpserver_requests: RequestTally  # reported once per invocation


def compose() -> CmdbSyncParts:
    register_restore_hooks()  # what environments restored from one SnapStart snapshot would share
    settings = CmdbSyncSettings.load()
    secretsmanager = aws.client_on_first_use("secretsmanager")  # the registry's client is made at init
    jumpserver = build_jumpserver(settings, secretsmanager)
    events = DefaultEventBus()
    sync = _build_sync(settings, secretsmanager, jumpserver, events)
    queue = CmdbQueue(
        sync,
        DeadLetters.create(settings.cmdb_dead_letter_queue_url),
        events,
        max_event_bytes=settings.cmdb_max_event_bytes,
        max_receive_count=settings.cmdb_max_receive_count,
    )
    return CmdbSyncParts(settings=settings, sync=sync, queue=queue, jumpserver_requests=jumpserver.requests)


def _build_sync(
    settings: CmdbSyncSettings, secretsmanager: Any, jumpserver: JumpServerClient, events: DefaultEventBus
) -> CmdbSync:
    registry = Registry.create(settings.registry_table_name)
    secrets = DatabaseSecrets(secretsmanager, settings.secrets_prefix)
    options = SyncOptions(
        node_path_template=settings.node_path_template,
        account_name=settings.account_name,
        account_template_id=settings.account_template_id,
        hard_delete_assets=settings.hard_delete_assets,
        secret_recovery_window_days=settings.secret_recovery_window_days,
        lease_seconds=settings.rotation_lease_seconds,
        rotation=settings.rotation,
    )
    return CmdbSync(
        jumpserver,
        registry,
        secrets,
        CredentialsReader(secretsmanager),
        build_rotator(settings, jumpserver, registry, secrets, events=events),
        settings.engines,
        options,
    )

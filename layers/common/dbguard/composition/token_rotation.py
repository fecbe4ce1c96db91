"""token_rotation's object graph, built once per cold start from its settings."""

from __future__ import annotations

from dataclasses import dataclass

from dbguard.adapters import aws
from dbguard.adapters.jumpserver.client import JUMPSERVER_SETTINGS, JumpServerClient
from dbguard.adapters.registry_store import Registry
from dbguard.adapters.secrets_store import DatabaseSecrets
from dbguard.composition.rotator import ROTATION_SETTINGS, build_rotator
from dbguard.composition.settings import Settings
from dbguard.rotation.policy import RotationPolicy
from dbguard.rotation.runner import RotationRunner
from dbguard.rotation.secrets_manager import SecretsManagerRotation


@dataclass(frozen=True)
class TokenRotation:
    settings: Settings
    jumpserver: JumpServerClient
    runner: RotationRunner
    secrets_manager_rotation: SecretsManagerRotation
    policy: RotationPolicy


def compose_token_rotation() -> TokenRotation:
    settings = Settings.from_env(*ROTATION_SETTINGS, *JUMPSERVER_SETTINGS)
    secretsmanager = aws.client("secretsmanager")
    registry = Registry.create(settings.registry_table_name)
    secrets = DatabaseSecrets(secretsmanager, settings.secrets_prefix)
    jumpserver = JumpServerClient.from_settings(settings, secretsmanager)
    rotator = build_rotator(settings, jumpserver, registry, secrets)
    return TokenRotation(
        settings=settings,
        jumpserver=jumpserver,
        runner=RotationRunner(registry, rotator, settings.rotation_concurrency),
        secrets_manager_rotation=SecretsManagerRotation(rotator, registry, secrets),
        policy=RotationPolicy(
            schedule=settings.rotation_schedule,
            window_seconds=settings.rotation_window_seconds,
            token_lifetime_seconds=settings.token_lifetime_seconds,
            consumer_cache_seconds=settings.consumer_cache_seconds,
        ),
    )

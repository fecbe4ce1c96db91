"""Secrets Manager's own rotation protocol, so `aws secretsmanager rotate-secret` works on a
dbguard secret: Secrets Manager labels a new version id AWSPENDING and calls the function once per
step with it. There is no database password to set (JumpServer issues the token in createSecret),
so setSecret has nothing to do.
"""

from __future__ import annotations

from dbguard.errors import InvalidInput
from dbguard.metric_catalogue import TOKENS_EXPIRED
from dbguard.observability import emit
from dbguard.registry.models import RegistryEntry
from dbguard.registry.ports import RotationRegistry
from dbguard.rotation.steps import RotationStep
from dbguard.secrets.ownership import owned_secret
from dbguard.secrets.ports import DatabaseSecretStore, SecretVersions
from dbguard.services.rotator import Rotator


class SecretsManagerRotation:
    def __init__(self, rotator: Rotator, registry: RotationRegistry, secrets: DatabaseSecretStore) -> None:
        self._rotator = rotator
        self._registry = registry
        self._secrets = secrets

    def run(self, step: RotationStep) -> None:
        if step.step == "setSecret":
            return  # no database password to set: JumpServer issued the token (nothing read, nothing written)
        versions = self._secrets.versions(step.secret_id)
        if versions is None:
            raise InvalidInput(f"secret {step.secret_id} does not exist")
        # by the owner the secret names, not by its name: a renamed database keeps its secret's name
        entry = self._registry.get(versions.owner) if versions.owner else None
        if entry is None or not entry.is_active or not self._is_its_secret(entry, versions):
            raise InvalidInput(f"secret {versions.name} does not belong to an active dbguard database")
        finished = self._rotator.step(entry, step.step, step.version_id)
        if finished is not None and finished.tokens_expired:
            emit(TOKENS_EXPIRED, finished.tokens_expired)

    def _is_its_secret(self, entry: RegistryEntry, versions: SecretVersions) -> bool:
        owned = owned_secret(self._secrets, entry.cmdb_id, entry.secret_arn, entry.name)
        return owned is not None and owned.arn == versions.arn

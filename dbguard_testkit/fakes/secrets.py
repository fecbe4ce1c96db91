"""Secrets Manager's database secrets in memory (secrets/ports.py DatabaseSecretStore), with its rules
for labels: each of AWSCURRENT, AWSPREVIOUS and AWSPENDING is on one version at most; moving
AWSCURRENT needs the version it leaves named, and puts AWSPREVIOUS there, as writing a new version
AWSCURRENT does; a retried write of the same value changes nothing; taking a label off a version
that does not carry it is refused; a version's value never changes; a secret scheduled for deletion
can be described and restored but not read. `rotate-secret` (start_rotation) labels a version
AWSPENDING before it has a value."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dbguard.engines import DEFAULT_ENGINES
from dbguard.jumpserver import IssuedToken
from dbguard.registry.models import RegistryEntry
from dbguard.secrets.contract import DatabaseSecret, ProxyEndpoint, shape_secret
from dbguard.secrets.ports import (
    CURRENT,
    OWNER_TAG,
    PENDING,
    PREVIOUS,
    RotationConfig,
    RotationInProgress,
    SecretValueNotFound,
    SecretVersions,
)

PREFIX = "dbguard/db"


class SecretsManagerRefusal(Exception):
    """What Secrets Manager answers a request it refuses (named after its error code)."""


@dataclass
class StoredSecret:
    arn: str
    name: str
    tags: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)  # version id -> secret string
    labels: dict[str, str] = field(default_factory=dict)  # label -> version id
    scheduled_for_deletion: bool = False
    rotation: RotationConfig | None = None  # Secrets Manager's rotation, once configured
    last_rotated: int | None = None  # LastRotatedDate: set when a rotation completes


class FakeSecrets:
    def __init__(self, prefix: str = PREFIX) -> None:
        self.prefix = prefix
        self.secrets: dict[str, StoredSecret] = {}  # by name
        # what RotateSecret invokes (the rotation function's steps); a test wires it
        self.rotation_function: Callable[[dict[str, Any]], Any] | None = None
        self.clock: Callable[[], float] = time.time

    # ------------------------------------------------------------------ the port
    def name_of(self, database_name: str) -> str:
        return f"{self.prefix}/{database_name}"

    def versions(self, secret_id: str) -> SecretVersions | None:
        secret = self._find(secret_id)
        if secret is None:
            return None
        return SecretVersions(
            arn=secret.arn, name=secret.name, current=secret.labels.get(CURRENT),
            previous=secret.labels.get(PREVIOUS), pending=secret.labels.get(PENDING),
            scheduled_for_deletion=secret.scheduled_for_deletion, owner=secret.tags.get(OWNER_TAG),
            rotation_function=secret.rotation.function_arn if secret.rotation else None,
        )  # fmt: skip

    def read(self, secret_id: str, version_id: str) -> DatabaseSecret:
        secret = self._find(secret_id)
        if secret is None or version_id not in secret.values:
            raise SecretValueNotFound(f"{secret_id} has no value for version {version_id}")
        return DatabaseSecret.from_secret_string(self._usable(secret_id).values[version_id], secret_id)

    def create_secret(self, name: str, value: DatabaseSecret, version_id: str, tags: dict[str, str]) -> str:
        if name in self.secrets:
            raise SecretsManagerRefusal(f"ResourceExistsException: {name}")
        arn = f"arn:aws:secretsmanager:eu-central-1:123456789012:secret:{name}-AbCdEf"
        self.secrets[name] = StoredSecret(
            arn, name, dict(tags), values={version_id: value.secret_string()}, labels={CURRENT: version_id}
        )
        return arn

    def put_current(self, secret_id: str, version_id: str, value: DatabaseSecret) -> None:
        secret = self._usable(secret_id)
        if self._write(secret, version_id, value):
            current = secret.labels.get(CURRENT)
            if current is not None:
                secret.labels[PREVIOUS] = current
            secret.labels[CURRENT] = version_id

    def put_pending(self, secret_id: str, version_id: str, value: DatabaseSecret) -> None:
        secret = self._usable(secret_id)
        self._write(secret, version_id, value)
        secret.labels[PENDING] = version_id

    def promote(self, secret_id: str, version_id: str, current_version_id: str | None) -> None:
        secret = self._usable(secret_id)
        if version_id not in secret.values:
            raise SecretsManagerRefusal(f"InvalidParameterException: no version {version_id}")
        if secret.labels.get(CURRENT) != version_id:
            if current_version_id != secret.labels.get(CURRENT):
                raise SecretsManagerRefusal("InvalidParameterException: AWSCURRENT is on another version")
            if current_version_id is not None:
                secret.labels[PREVIOUS] = current_version_id
            secret.labels[CURRENT] = version_id
        self.discard_pending(secret_id, version_id)

    def discard_pending(self, secret_id: str, version_id: str) -> None:
        secret = self._usable(secret_id)
        if secret.labels.get(PENDING) != version_id:
            raise SecretsManagerRefusal(f"InvalidParameterException: {version_id} is not AWSPENDING")
        del secret.labels[PENDING]

    def schedule_deletion(self, secret_id: str, recovery_days: int) -> None:
        secret = self._find(secret_id)
        if secret is not None:
            secret.scheduled_for_deletion = True

    def restore(self, secret_id: str) -> None:
        secret = self._find(secret_id)
        if secret is None:
            raise SecretsManagerRefusal(f"ResourceNotFoundException: {secret_id}")
        secret.scheduled_for_deletion = False

    def create_raw(self, name: str, text: str, tags: dict[str, str]) -> str:
        """A secret someone else made (or edited), holding any text as its AWSCURRENT value."""
        arn = f"arn:aws:secretsmanager:eu-central-1:123456789012:secret:{name}-XyZabc"
        version_id = str(uuid.uuid4())
        self.secrets[name] = StoredSecret(arn, name, dict(tags), {version_id: text}, {CURRENT: version_id})
        return arn

    def start_rotation(
        self, secret_id: str, config: RotationConfig | None = None, *, immediately: bool = True
    ) -> str:
        """RotateSecret as AWS runs it (dbguard_local/secrets_rotation.py), but the steps run before it
        answers: refused while another rotation's AWSPENDING is unsettled; a new version labelled
        AWSPENDING (empty, or a copy of AWSCURRENT for the test of a configuration); the steps until one
        fails; LastRotatedDate only when the new version ended AWSCURRENT."""
        secret = self._usable(secret_id)
        pending = secret.labels.get(PENDING)
        if pending is not None and pending != secret.labels.get(CURRENT):
            raise RotationInProgress(f"{secret_id}: a previous rotation isn't complete")
        secret.rotation = config or secret.rotation
        if secret.rotation is None or self.rotation_function is None:
            raise SecretsManagerRefusal("InvalidRequestException: no rotation function")
        version_id = str(uuid.uuid4())
        if not immediately:
            secret.values[version_id] = secret.values[secret.labels[CURRENT]]
        secret.labels[PENDING] = version_id
        steps = (
            ("createSecret", "setSecret", "testSecret", "finishSecret") if immediately else ("testSecret",)
        )
        for step in steps:
            try:
                self.rotation_function(
                    {"Step": step, "SecretId": secret.arn, "ClientRequestToken": version_id}
                )
            except Exception:
                return version_id
        if not immediately:
            del secret.labels[PENDING], secret.values[version_id]
        elif secret.labels.get(CURRENT) == version_id:
            secret.last_rotated = int(self.clock())
        return version_id

    # ------------------------------------------------------------------ for tests
    def label_pending(self, secret_id: str, version_id: str) -> None:
        """What `rotate-secret` does before it calls the function's steps: it labels a new version id
        AWSPENDING, a version with no value yet."""
        self._usable(secret_id).labels[PENDING] = version_id

    def labelled(self, secret_id: str) -> dict[str, str]:
        """label -> token id of the version carrying it (a version with no value yet holds none)."""
        secret = self._usable(secret_id)
        return {
            label: DatabaseSecret.from_secret_string(secret.values[version_id], secret_id).token_id
            for label, version_id in secret.labels.items()
            if version_id in secret.values
        }

    @staticmethod
    def _write(secret: StoredSecret, version_id: str, value: DatabaseSecret) -> bool:
        """Store a new version's value; False when the version holds that very value already (a
        retried write, which Secrets Manager answers without changing anything)."""
        text = value.secret_string()
        if version_id not in secret.values:
            secret.values[version_id] = text
            return True
        if secret.values[version_id] != text:
            raise SecretsManagerRefusal(f"ResourceExistsException: version {version_id} has another value")
        return False

    def _find(self, secret_id: str) -> StoredSecret | None:
        return next((s for s in self.secrets.values() if secret_id in (s.name, s.arn)), None)

    def _usable(self, secret_id: str) -> StoredSecret:
        secret = self._find(secret_id)
        if secret is None:
            raise SecretsManagerRefusal(f"ResourceNotFoundException: {secret_id}")
        if secret.scheduled_for_deletion:
            raise SecretsManagerRefusal(f"InvalidRequestException: {secret_id} is marked for deletion")
        return secret


PROXY = ProxyEndpoint(host="jms-proxy.example.com")


def shape(entry: RegistryEntry, token: IssuedToken) -> DatabaseSecret:
    """The secret as composition/rotator.py shapes it, with the built-in engine map."""
    return shape_secret(entry, token, DEFAULT_ENGINES[entry.engine], PROXY)

"""What the rotation needs from the store of database secrets (Secrets Manager), as protocols.

A rotation writes the new value as a version labelled AWSCURRENT at once (Secrets Manager's own
rotate-secret steps write it AWSPENDING first and move AWSCURRENT onto it later); either way the
version it replaced becomes AWSPREVIOUS, so applications holding either value keep working. A
version's value never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dbguard.jumpserver import IssuedToken
from dbguard.registry.models import RegistryEntry
from dbguard.secrets.contract import DatabaseSecret

CURRENT, PREVIOUS, PENDING = "AWSCURRENT", "AWSPREVIOUS", "AWSPENDING"
# the tag naming the database (CMDB id) a secret belongs to, for its whole life (secrets/ownership.py)
OWNER_TAG = "dbguard:cmdb-id"


class SecretValueNotFound(LookupError):
    """No value for that version: the secret or the version does not exist, or the version is only
    labelled so far (`rotate-secret` labels a new version id AWSPENDING before createSecret writes it)."""


@dataclass(frozen=True)
class SecretVersions:
    """Which version of a secret carries which label."""

    arn: str
    name: str
    current: str | None
    previous: str | None
    pending: str | None
    scheduled_for_deletion: bool
    owner: str | None  # the OWNER_TAG's value: the CMDB id of the database it belongs to


class DatabaseSecretStore(Protocol):
    def name_of(self, database_name: str) -> str: ...

    def versions(self, secret_id: str) -> SecretVersions | None:
        """Which version carries which label; None when the secret does not exist."""
        ...

    def read(self, secret_id: str, version_id: str) -> DatabaseSecret:
        """The version's value; SecretValueNotFound when it has none."""
        ...

    def create_secret(self, name: str, value: DatabaseSecret, version_id: str, tags: dict[str, str]) -> str:
        """A new secret whose first version (AWSCURRENT) is `value`; returns its ARN."""
        ...

    def put_current(self, secret_id: str, version_id: str, value: DatabaseSecret) -> None:
        """A new version `version_id` holding `value`, labelled AWSCURRENT: the version that was
        AWSCURRENT becomes AWSPREVIOUS in the same request."""
        ...

    def put_pending(self, secret_id: str, version_id: str, value: DatabaseSecret) -> None:
        """A new version `version_id` holding `value`, labelled AWSPENDING."""
        ...

    def promote(self, secret_id: str, version_id: str, current_version_id: str | None) -> None:
        """Make `version_id` AWSCURRENT (the replaced one becomes AWSPREVIOUS), then drop AWSPENDING."""
        ...

    def discard_pending(self, secret_id: str, version_id: str) -> None:
        """Take AWSPENDING off `version_id`."""
        ...

    def schedule_deletion(self, secret_id: str, recovery_days: int) -> None:
        """Delete after `recovery_days`; a secret already scheduled or gone counts as done."""
        ...

    def restore(self, secret_id: str) -> None:
        """Cancel a scheduled deletion."""
        ...


class SecretShaper(Protocol):
    """The secret applications read, for a database and its token."""

    def __call__(self, entry: RegistryEntry, token: IssuedToken) -> DatabaseSecret: ...

"""What the rotation needs from the store of database secrets (Secrets Manager), as protocols.

Rotations run through Secrets Manager's own protocol (`RotateSecret`: the new value is written
AWSPENDING by createSecret and made AWSCURRENT by finishSecret), so each secret shows rotation
enabled with dbguard's function as its rotator and a LastRotatedDate that moves; repairs and a
database's reissue on a CMDB change write a version AWSCURRENT at once. Either way the version
replaced becomes AWSPREVIOUS, so applications holding either value keep working. A version's value
never changes.
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


class RotationInProgress(Exception):
    """Secrets Manager refuses a new rotation while another one's AWSPENDING version is not settled."""


@dataclass(frozen=True)
class RotationConfig:
    """How a secret is rotated by Secrets Manager: by this function, and on its own schedule every
    `after_days` days if dbguard's schedule has not rotated it sooner (a backstop)."""

    function_arn: str
    after_days: int


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
    rotation_function: str | None = None  # RotationLambdaARN while rotation is enabled


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

    def start_rotation(
        self, secret_id: str, config: RotationConfig | None = None, *, immediately: bool = True
    ) -> str:
        """Secrets Manager's RotateSecret: configure rotation (with `config`) and start one, which it
        runs through the rotation function's steps on its own (asynchronously); the new AWSPENDING
        version's id. Not `immediately`: only configure it (Secrets Manager runs testSecret once).
        RotationInProgress while a previous rotation's AWSPENDING is not settled."""
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

"""One database's rotation: a new token into AWSCURRENT, the token before the previous one expired.

Order matters for what a crash can leave behind:

1. create the token (one-time: JumpServer expires it in 300 s on its own),
2. journal its id in the registry,
3. make it reusable (from now on it lives CONNECTION_TOKEN_REUSABLE_EXPIRATION),
4. write it as AWSPENDING, 5. verify it in JumpServer, 6. move AWSCURRENT onto it,
7. journal the token Secrets Manager pushed out of AWSPREVIOUS, expire it, clear the journal.

Every run first repairs what an interrupted one left: a valid AWSPENDING is promoted, an invalid
one discarded and its token expired, journalled tokens expired. So the current and the previous
token are valid at any moment, and no token outlives its secret version.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from dbguard.errors import describe_error
from dbguard.observability import logger
from dbguard.registry.models import RegistryEntry
from dbguard.registry.store import LeaseBusy, Registry
from dbguard.rotation.ports import ConnectionTokens, IssuedToken, SecretShaper
from dbguard.secrets.store import DatabaseSecrets, SecretVersions


class Outcome(StrEnum):
    ROTATED = "rotated"
    FAILED = "failed"
    NOT_FOUND = "not_found"
    BUSY = "busy"  # another rotation or CMDB change holds the database's lease


@dataclass(frozen=True)
class RotationResult:
    name: str
    status: Outcome
    error: str | None = None
    expires_at: datetime | None = None
    tokens_expired: int = 0

    def as_dict(self) -> dict[str, object]:
        result: dict[str, object] = {"name": self.name, "status": self.status.value}
        if self.error:
            result["error"] = self.error
        return result


class TokenRejected(Exception):
    """JumpServer does not confirm the new token (unreadable, expired)."""


class Rotator:
    def __init__(
        self,
        tokens: ConnectionTokens,
        secrets: DatabaseSecrets,
        registry: Registry,
        shape: SecretShaper,
        *,
        lease_seconds: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._tokens = tokens
        self._secrets = secrets
        self._registry = registry
        self._shape = shape
        self._lease_seconds = lease_seconds
        self._clock = clock

    # ------------------------------------------------------------------ entry points
    def rotate(self, entry: RegistryEntry) -> RotationResult:
        """Rotate now, whatever the expiry; never raises (a failure is a result)."""
        try:
            with self._lease(entry):
                return self.rotate_under_lease(entry)
        except LeaseBusy as busy:
            return RotationResult(entry.name, Outcome.BUSY, str(busy))
        except Exception as error:  # one database's failure must never stop the others
            message = describe_error(error)
            logger.warning("rotation failed", extra={"database": entry.name, "error": message})
            self._registry.save_rotation_state(entry.cmdb_id, last_rotation_error=message)
            return RotationResult(entry.name, Outcome.FAILED, message)

    # ------------------------------------------------------------------ Secrets Manager's protocol
    def create_pending(self, entry: RegistryEntry, version_id: str) -> None:
        """createSecret: a new token as AWSPENDING under the version id Secrets Manager chose."""
        with self._lease(entry):
            versions = self._require_versions(entry)
            if versions.pending == version_id and self._pending_is_usable(versions.arn, version_id):
                return  # a retried step: the version is already there
            token = self._new_token(entry)
            try:
                self._secrets.put_pending(versions.arn, version_id, self._shape(entry, token))
            except Exception:
                self._abandon(entry, token.id)
                raise

    def test_pending(self, entry: RegistryEntry, version_id: str) -> None:
        """testSecret: the version's token must be readable and unexpired in JumpServer."""
        versions = self._require_versions(entry)
        self._verify(self._secrets.read(versions.arn, version_id).token_id)

    def finish(self, entry: RegistryEntry, version_id: str) -> RotationResult:
        """finishSecret: AWSCURRENT onto the version, then expire the token pushed out of AWSPREVIOUS."""
        with self._lease(entry):
            versions = self._require_versions(entry)
            if versions.current == version_id:
                return RotationResult(entry.name, Outcome.ROTATED)
            token = self._verify(self._secrets.read(versions.arn, version_id).token_id)
            return self._promote(entry, versions, version_id, token, expired=self._expire_retired(entry))

    # ------------------------------------------------------------------ the protocol
    def rotate_under_lease(self, entry: RegistryEntry) -> RotationResult:
        """Rotate for a caller that already holds the database's lease (cmdb_sync); raises on failure."""
        expired = self._expire_retired(entry)
        versions = self._versions(entry)
        stray = entry.pending_token_id  # journalled by a run that stopped half-way
        if versions is not None and versions.pending and versions.pending != versions.current:
            pending_token_id = self._secrets.read(versions.arn, versions.pending).token_id
            stray = None if stray == pending_token_id else stray
            token = self._confirmed(pending_token_id)
            if token is not None:
                logger.info("resuming an interrupted rotation", extra={"database": entry.name})
                return self._promote(entry, versions, versions.pending, token, expired, strays=[stray])
            self._secrets.discard_pending(versions.arn, versions.pending)
            self._tokens.expire_connection_token(pending_token_id)
            expired += 1
            versions = self._versions(entry)
        if stray:
            self._tokens.expire_connection_token(stray)
            expired += 1
        token = self._new_token(entry)
        if versions is None:
            return self._first_secret(entry, token, expired)
        version_id = str(uuid.uuid4())
        try:
            self._secrets.put_pending(versions.arn, version_id, self._shape(entry, token))
            self._verify(token.id)
        except Exception:
            self._abandon(entry, token.id, versions.arn, version_id)
            raise
        return self._promote(entry, versions, version_id, token, expired)

    def _new_token(self, entry: RegistryEntry) -> IssuedToken:
        created = self._tokens.create_connection_token(entry.asset_id, entry.account, entry.protocol)
        self._registry.save_rotation_state(entry.cmdb_id, pending_token_id=created.id)
        try:
            return self._tokens.make_token_reusable(created.id)
        except Exception:
            self._abandon(entry, created.id)
            raise

    def _first_secret(self, entry: RegistryEntry, token: IssuedToken, expired: int) -> RotationResult:
        try:
            self._verify(token.id)
            tags = {"app": "dbguard", "dbguard:cmdb-id": entry.cmdb_id}
            arn = self._secrets.create_secret(
                self._secrets.name_of(entry.name), self._shape(entry, token), str(uuid.uuid4()), tags
            )
        except Exception:
            self._abandon(entry, token.id)
            raise
        self._registry.save_rotation_state(entry.cmdb_id, secret_arn=arn)
        return self._commit(entry, token, previous_token_id=None, pushed_out=[], expired=expired)

    def _promote(
        self,
        entry: RegistryEntry,
        versions: SecretVersions,
        version_id: str,
        token: IssuedToken,
        expired: int,
        strays: list[str | None] = (),
    ) -> RotationResult:
        current_token_id = self._token_id_of(versions.arn, versions.current)
        pushed_out = self._token_id_of(versions.arn, versions.previous)
        self._secrets.promote(versions.arn, version_id, versions.current)
        return self._commit(
            entry,
            token,
            previous_token_id=current_token_id,
            pushed_out=[pushed_out, *strays],
            expired=expired,
        )

    def _commit(
        self,
        entry: RegistryEntry,
        token: IssuedToken,
        *,
        previous_token_id: str | None,
        pushed_out: list[str | None],
        expired: int,
    ) -> RotationResult:
        keep = (token.id, previous_token_id)
        to_expire = [token_id for token_id in pushed_out if token_id and token_id not in keep]
        self._registry.save_rotation_state(
            entry.cmdb_id,
            current_token_id=token.id,
            current_token_expires_at=int(token.date_expired.timestamp()),
            previous_token_id=previous_token_id,
            pending_token_id=None,
            retired_token_ids=to_expire,  # journalled before expiring, so a failure is retried next run
            last_rotated_at=int(self._clock().timestamp()),
            last_rotation_error=None,
        )
        still_valid = self._expire(to_expire)
        self._registry.save_rotation_state(entry.cmdb_id, retired_token_ids=still_valid)
        logger.info(
            "rotated",
            extra={
                "database": entry.name,
                "token_id": token.id,
                "expires_at": token.date_expired.isoformat(),
            },
        )
        return RotationResult(
            entry.name, Outcome.ROTATED, expires_at=token.date_expired,
            tokens_expired=expired + len(to_expire) - len(still_valid),
        )  # fmt: skip

    # ------------------------------------------------------------------ helpers
    def _lease(self, entry: RegistryEntry):
        return self._registry.lease(entry.cmdb_id, int(self._clock().timestamp()), self._lease_seconds)

    def _require_versions(self, entry: RegistryEntry) -> SecretVersions:
        versions = self._versions(entry)
        if versions is None:
            raise LookupError(f"{entry.name} has no secret yet; it gets one when the CMDB registers it")
        return versions

    def _pending_is_usable(self, secret_arn: str, version_id: str) -> bool:
        try:
            token_id = self._secrets.read(secret_arn, version_id).token_id
        except Exception:  # no value yet (the version was only labelled) or not ours
            return False
        return self._confirmed(token_id) is not None

    def _versions(self, entry: RegistryEntry) -> SecretVersions | None:
        versions = self._secrets.versions(entry.secret_arn or self._secrets.name_of(entry.name))
        if versions is not None and versions.scheduled_for_deletion:  # a database that came back
            self._secrets.restore(versions.arn)
            versions = self._secrets.versions(versions.arn)
        return versions

    def _confirmed(self, token_id: str) -> IssuedToken | None:
        try:
            return self._verify(token_id)
        except TokenRejected:
            return None

    def _verify(self, token_id: str) -> IssuedToken:
        token = self._tokens.get_connection_token(token_id)
        if token is None:
            raise TokenRejected(f"JumpServer does not know token {token_id} (expired or not ours)")
        if token.is_expired or token.date_expired <= self._clock():
            raise TokenRejected(f"token {token_id} is already expired")
        return token

    def _token_id_of(self, secret_arn: str, version_id: str | None) -> str | None:
        return self._secrets.read(secret_arn, version_id).token_id if version_id else None

    def _abandon(
        self,
        entry: RegistryEntry,
        token_id: str,
        secret_arn: str | None = None,
        version_id: str | None = None,
    ) -> None:
        """Undo a rotation that failed before promotion; what cannot be undone stays journalled."""
        try:
            if secret_arn and version_id and self._versions(entry).pending == version_id:
                self._secrets.discard_pending(secret_arn, version_id)
            self._tokens.expire_connection_token(token_id)
            self._registry.save_rotation_state(entry.cmdb_id, pending_token_id=None)
        except Exception as error:
            logger.warning(
                "cleanup deferred to the next run",
                extra={"database": entry.name, "error": describe_error(error)},
            )

    def _expire_retired(self, entry: RegistryEntry) -> int:
        if not entry.retired_token_ids:
            return 0
        still_valid = self._expire(entry.retired_token_ids)
        self._registry.save_rotation_state(entry.cmdb_id, retired_token_ids=still_valid)
        return len(entry.retired_token_ids) - len(still_valid)

    def _expire(self, token_ids: list[str]) -> list[str]:
        """Expire each token; return those JumpServer could not be told about (to retry later)."""
        failed = []
        for token_id in token_ids:
            try:
                self._tokens.expire_connection_token(token_id)
            except Exception as error:
                logger.warning(
                    "token expiry deferred", extra={"token_id": token_id, "error": describe_error(error)}
                )
                failed.append(token_id)
        return failed

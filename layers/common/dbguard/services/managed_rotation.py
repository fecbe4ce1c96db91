"""A rotation that Secrets Manager runs (RotateSecret), which is how dbguard's schedule and its
operators rotate a database: each secret then shows rotation enabled with dbguard's function as its
rotator, and a LastRotatedDate that moves on every rotation (AWS Security Hub SecretsManager.1 and
.4; docs/architecture.md, "Rotation through Secrets Manager").

dbguard still decides when: the run picks what is due, most urgent first, within JumpServer's request
budget, and asks Secrets Manager for those rotations only (their own schedule is a backstop that a
working dbguard always beats). Secrets Manager calls token_rotation with each step
(services/secrets_manager_rotation.py, the Rotator's create_pending, test_pending, finish), which keep
the rotation invariant as every other path does; the run waits until the new version is AWSCURRENT
and recorded, or a step reports its failure on the registry entry, or time runs out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from dbguard.registry.models import RegistryEntry
from dbguard.registry.ports import RotationRegistry
from dbguard.rotation.ports import ConnectionTokens
from dbguard.secrets.ports import DatabaseSecretStore, RotationConfig, RotationInProgress
from dbguard.services.rotator import Outcome, RotationResult, Rotator

# JumpServer requests of one rotation through Secrets Manager: create and reuse (createSecret), read
# (testSecret), read and expire the token two rotations back (finishSecret)
REQUESTS_PER_MANAGED_ROTATION = 4
# the run reads the registry entry after 25 ms, then at doubling intervals up to every half second:
# the four steps take a second or two (Lambda's asynchronous invokes between them), and each read is
# one eventually consistent GetItem
FIRST_POLL_SECONDS = 0.025
LAST_POLL_SECONDS = 0.1
_OUTCOMES_OF_STEP_ERRORS = {
    "LeaseBusy": Outcome.BUSY,
    "LeaseLost": Outcome.BUSY,
    "RotationTooSoon": Outcome.TOO_SOON,
}


class ManagedRotation:
    def __init__(
        self,
        rotator: Rotator,
        secrets: DatabaseSecretStore,
        registry: RotationRegistry,
        tokens: ConnectionTokens,
        rotation: RotationConfig,
        *,
        completion_seconds: float = 120.0,
        settle_after_seconds: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rotator = rotator
        self._secrets = secrets
        self._registry = registry
        self._tokens = tokens
        self._rotation = rotation
        self._completion_seconds = completion_seconds
        self._settle_after_seconds = settle_after_seconds
        self._sleep = sleep

    def rotate(self, entry: RegistryEntry, *, force: bool = False) -> RotationResult:
        """Ask Secrets Manager to rotate the database now and wait for the outcome; never raises.
        `force`: within ConsumerCacheSeconds too (breaks cached consumers)."""
        prepared = self._rotator.prepare_managed(entry, force=force)
        if isinstance(prepared, RotationResult):
            return prepared
        # a secret from before rotation was configured (or configured otherwise) is configured now
        configure = None if prepared.rotation_function == self._rotation.function_arn else self._rotation
        self._tokens.reserve(REQUESTS_PER_MANAGED_ROTATION)  # the steps' requests, sent by other invocations
        try:
            version_id = self._secrets.start_rotation(prepared.arn, configure)
            return self._awaited(entry, prepared.arn, version_id)
        except RotationInProgress as running:  # Secrets Manager started one since (its own schedule)
            return RotationResult(entry.name, Outcome.BUSY, str(running))
        except Exception as error:  # one database's failure must never stop the others
            return RotationResult(
                entry.name, Outcome.FAILED, self._rotator.record_failure(entry, error, "RotateSecret")
            )

    def _awaited(self, entry: RegistryEntry, secret_arn: str, version_id: str) -> RotationResult:
        """Until the new version is recorded as current (rotated: finishSecret records it only after
        moving AWSCURRENT), a step reports its failure, or time runs out. Only the registry entry is
        read meanwhile; the secret's labels only once the steps have had `settle_after_seconds`: a
        version promoted but left unrecorded (finishSecret stopped between its requests) is settled
        here then, as the next run would."""
        started = time.monotonic()
        delay = FIRST_POLL_SECONDS
        while True:
            latest = self._registry.get(entry.cmdb_id) or entry
            if latest.current_version_id == version_id:
                return RotationResult(entry.name, Outcome.ROTATED, expires_at=_expiry(latest))
            if latest.failed_version_id == version_id:
                error = latest.last_rotation_error or "a rotation step failed"
                return RotationResult(
                    entry.name, _outcome_of(error), error, service_refused=bool(latest.service_refused)
                )
            waited = time.monotonic() - started
            if waited >= self._settle_after_seconds and self._promoted(secret_arn, version_id):
                self._rotator.settle(entry)  # records the promotion; busy while finishSecret runs
            if waited >= self._completion_seconds:
                return RotationResult(
                    entry.name, Outcome.FAILED,
                    f"Secrets Manager's rotation (version {version_id}) did not complete within "
                    f"{self._completion_seconds:.0f} s; token_rotation's log has its steps, the next run "
                    "settles it",
                )  # fmt: skip
            self._sleep(delay)
            delay = min(delay * 2, LAST_POLL_SECONDS)

    def _promoted(self, secret_arn: str, version_id: str) -> bool:
        versions = self._secrets.versions(secret_arn)
        return versions is not None and versions.current == version_id


def _outcome_of(error: str) -> Outcome:
    return _OUTCOMES_OF_STEP_ERRORS.get(error.partition(":")[0], Outcome.FAILED)


def _expiry(entry: RegistryEntry) -> datetime | None:
    expires = entry.current_token_expires_at
    return None if expires is None else datetime.fromtimestamp(expires, UTC)

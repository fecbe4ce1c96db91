"""One database's rotation: a new token into AWSCURRENT, the token before the previous one expired.

Order matters for what a failure can leave behind:

1. create the token (one-time: JumpServer expires it in 300 s on its own),
2. journal its id in the registry (`pendingTokenId`),
3. make it reusable (from now on it lives CONNECTION_TOKEN_REUSABLE_EXPIRATION); JumpServer's
   answer confirms it reusable and gives its expiry, checked before the token is written anywhere,
4. write it as a new version labelled AWSCURRENT (Secrets Manager moves AWSPREVIOUS onto the version
   it replaces in the same request),
5. settle: the labels are read again; every token the registry knows of that no label refers to
   any more is expired, and the registry takes the labels as the truth in one write (which also
   gives up the lease when the rotation took it itself), keeping a token whose expiry failed
   journalled (`retiredTokenIds`). The token two rotations back is expired before that write: the
   registry names it already and step 2's entry keeps the journal dirty until then, so a run
   stopped in between leaves what the next run settles again. Settling what an interrupted run
   left journals the tokens to expire first.

A run stopped right after step 4 left AWSCURRENT on a version the registry did not record, with the
new token journalled: the next run records that promotion without issuing a token (`_repair`).
Secrets Manager's own `rotate-secret` steps (create_pending, finish) keep its protocol instead: the
version is written AWSPENDING in createSecret and made AWSCURRENT in finishSecret.

In the steady state that is three JumpServer calls per database: create, reuse, expire the token
two rotations back (docs/rotation.md, "How many databases an hour"); three Secrets Manager calls:
a describe (the labels), the write, and a describe again before anything is expired; and three
registry writes: taking the lease (it returns the entry, so there is no read), the new token's
journal, and the settled labels as the lease is given up. The token of the version that becomes
AWSPREVIOUS is the registry's `currentTokenId` when the registry recorded that very version
(`currentVersionId`: a version's value never changes) and its journal is clean; otherwise it is
read.

The invariant: **a token that is AWSCURRENT, AWSPREVIOUS or AWSPENDING of its secret is never
expired** — every expiry is decided against the secret's labels read just before, never against
the registry alone, which may lag behind Secrets Manager after a failure. A run that stopped half-way is
settled by the next one before anything else: a valid AWSPENDING is promoted, an invalid one
discarded, and every journalled token no label refers to is expired. So the current and the
previous token are valid at any moment, and no other token of the database outlives a settle
(a token created but never journalled was never made reusable: it expires in 300 s).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from pydantic import SecretStr

from dbguard.errors import NeedsOperator, ServiceRefused
from dbguard.jumpserver import IssuedToken, PermissionMissing
from dbguard.observability import logger
from dbguard.operator_events import (
    ROTATION_FAILED_DETAIL_TYPE,
    ROTATION_RECOVERED_DETAIL_TYPE,
    ROTATION_SOURCE,
    NoEvents,
    OperatorEvents,
)
from dbguard.registry.lease import Lease, LeaseBusy
from dbguard.registry.models import RegistryEntry, RotationStateChange
from dbguard.registry.ports import RotationRegistry
from dbguard.rotation.ports import ConnectionTokens
from dbguard.secrets.contract import DatabaseSecret
from dbguard.secrets.ownership import owned_secret
from dbguard.secrets.ports import (
    OWNER_TAG,
    DatabaseSecretStore,
    RotationConfig,
    SecretShaper,
    SecretValueNotFound,
    SecretVersions,
)
from dbguard.validation import describe_error

Prepared = TypeVar("Prepared")


class Outcome(StrEnum):
    ROTATED = "rotated"
    FAILED = "failed"
    NOT_FOUND = "not_found"
    BUSY = "busy"  # another rotation or CMDB change holds the database's lease
    TOO_SOON = "too_soon"  # rotated within ConsumerCacheSeconds: would expire a cached token
    # an interrupted rotation was finished (its token promoted), no new token issued: the token that
    # was current before it is now AWSPREVIOUS and still valid
    COMPLETED = "completed"


@dataclass(frozen=True)
class RotationResult:
    name: str
    status: Outcome
    error: str | None = None
    expires_at: datetime | None = None
    tokens_expired: int = 0
    # JumpServer refused dbguard itself (errors.ServiceRefused): no other database can do better
    service_refused: bool = False

    def as_dict(self) -> dict[str, object]:
        result: dict[str, object] = {"name": self.name, "status": self.status.value}
        if self.error:
            result["error"] = self.error
        if self.service_refused:
            result["needsOperator"] = True
        return result


@dataclass(frozen=True)
class _WrittenToken:
    """The token a secret version holds, as the rotation wrote it once JumpServer had confirmed it
    reusable and unexpired."""

    id: str
    value: SecretStr
    date_expired: datetime
    is_expired: bool = False
    is_reusable: bool = True

    @classmethod
    def of(cls, secret: DatabaseSecret) -> _WrittenToken:
        return cls(secret.token_id, secret.password, secret.expires_at)


class TokenRejected(Exception):
    """JumpServer does not confirm the new token (unreadable, expired)."""


class RotationTooSoon(Exception):
    """The previous rotation is younger than the consumers' cache: another now would expire the
    token applications may still hold (the one two rotations back)."""


class Rotator:
    def __init__(
        self,
        tokens: ConnectionTokens,
        secrets: DatabaseSecretStore,
        registry: RotationRegistry,
        shape: SecretShaper,
        *,
        lease_seconds: int,
        min_interval_seconds: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        events: OperatorEvents | None = None,
    ) -> None:
        self._tokens = tokens
        self._secrets = secrets
        self._registry = registry
        self._shape = shape
        self._lease_seconds = lease_seconds
        self._min_interval = min_interval_seconds
        self._clock = clock
        self._events = events or NoEvents()

    # ------------------------------------------------------------------ entry points
    def rotate(self, entry: RegistryEntry, *, force: bool = False) -> RotationResult:
        """Rotate now, here, whatever the expiry (a new version written AWSCURRENT at once); never
        raises (a failure is a result). Refused while the last rotation is younger than
        ConsumerCacheSeconds, unless `force` (breaks cached consumers)."""

        def rotate_now(fresh: RegistryEntry, lease: Lease) -> RotationResult:
            repaired, fresh, versions = self._repair(fresh, lease)
            if repaired is not None:  # an interrupted rotation finished: that is this run
                return replace(repaired, status=Outcome.COMPLETED)
            if not force:
                self._require_interval(fresh)
            return self._rotate(fresh, lease, versions, releasing=True)

        return self._on_active(entry, rotate_now)

    def prepare_managed(
        self, entry: RegistryEntry, *, force: bool = False
    ) -> RotationResult | SecretVersions:
        """Before Secrets Manager is asked to rotate (services/managed_rotation.py), under the lease:
        what an interrupted rotation left is settled, and the rotation must be due or forced. The
        secret's labels when it may start; else the run's result (completed, too soon, busy, not
        found, failed; a database with no secret yet gets its first one here, as cmdb_sync makes it).
        Never raises."""

        def prepare(fresh: RegistryEntry, lease: Lease) -> RotationResult | SecretVersions:
            repaired, fresh, versions = self._repair(fresh, lease)
            if repaired is not None:
                return replace(repaired, status=Outcome.COMPLETED)
            if versions is None:  # its first secret failed before: made now, as cmdb_sync makes it
                return self._rotate(fresh, lease, None, releasing=True)
            if not force:
                self._require_interval(fresh)
            if force or fresh.failed_version_id:
                change = RotationStateChange(force_next_rotation=force or None, failed_version_id=None)
                self._registry.save_rotation_state(fresh.cmdb_id, change)
            return versions

        return self._on_active(entry, prepare)

    def settle(self, entry: RegistryEntry) -> RotationResult:
        """Only settle what an interrupted rotation left (a promotion nobody recorded, an AWSPENDING
        to promote or drop, journalled tokens to expire), under the lease; never raises."""

        def settle(fresh: RegistryEntry, lease: Lease) -> RotationResult:
            repaired, _, _ = self._repair(fresh, lease)
            done = repaired or RotationResult(entry.name, Outcome.ROTATED)
            return replace(done, status=Outcome.COMPLETED)

        return self._on_active(entry, settle)

    def _on_active(
        self, entry: RegistryEntry, work: Callable[[RegistryEntry, Lease], Prepared]
    ) -> Prepared | RotationResult:
        """`work` under the database's lease, on the entry as taking the lease found it (the caller's
        copy may predate another run); not_found once it is no longer active. Never raises."""

        def leased() -> Prepared | RotationResult:
            with self._lease(entry) as lease:
                fresh = lease.entry
                if fresh is None or not fresh.is_active:
                    return RotationResult(entry.name, Outcome.NOT_FOUND, "no active database of that name")
                return work(fresh, lease)

        return self._guarded(entry, leased)

    def _guarded(self, entry: RegistryEntry, run: Callable[[], Prepared]) -> Prepared | RotationResult:
        try:
            return run()
        except LeaseBusy as busy:
            return RotationResult(entry.name, Outcome.BUSY, str(busy))
        except RotationTooSoon as too_soon:
            return RotationResult(entry.name, Outcome.TOO_SOON, str(too_soon))
        except Exception as error:  # one database's failure must never stop the others
            return RotationResult(
                entry.name, Outcome.FAILED, self.record_failure(entry, error, "rotation"),
                service_refused=isinstance(error, ServiceRefused),
            )  # fmt: skip

    def record_failure(
        self, entry: RegistryEntry, error: Exception, step: str, version_id: str | None = None
    ) -> str:
        """Note a failed attempt on the entry (why, how many in a row, which AWSPENDING version), and
        announce the first of a row (Rotation Failed); the error's text, for the caller's result."""
        message = describe_error(error)
        logger.warning("rotation failed", extra={"database": entry.name, "step": step, "error": message})
        try:
            latest = self._latest(entry)
            attempts = (latest.rotation_failures or 0) + 1
            change = RotationStateChange(
                last_rotation_error=message, rotation_failures=attempts, failed_version_id=version_id,
                service_refused=isinstance(error, ServiceRefused) or None,
            )  # fmt: skip
            self._registry.save_rotation_state(entry.cmdb_id, change)
        except Exception as unrecorded:  # the failure itself is what the caller must see
            logger.warning("rotation failure not recorded", extra={"error": describe_error(unrecorded)})
            return message
        if latest.last_rotation_error is None:  # the first of a row: a change of state
            expires = latest.current_token_expires_at
            detail = {
                "database": entry.name, "cmdbId": entry.cmdb_id, "step": step,
                "errorClass": type(error).__name__, "error": message, "attempts": attempts,
                "tokenExpiresInSeconds": None if expires is None else expires - int(self._now()),
                "needsOperator": isinstance(error, NeedsOperator),
            }  # fmt: skip
            if isinstance(error, NeedsOperator):
                detail["fix"] = error.fix
            self._events.publish(ROTATION_SOURCE, ROTATION_FAILED_DETAIL_TYPE, detail)
        return message

    def rotate_under_lease(self, entry: RegistryEntry, lease: Lease) -> RotationResult:
        """A new secret for a caller that holds the lease and needs one whatever the interval
        (cmdb_sync: the database's name, engine or account changed); raises on failure."""
        _, entry, versions = self._repair(entry, lease)
        return self._rotate(entry, lease, versions)

    def configure_rotation(self, entry: RegistryEntry, rotation: RotationConfig) -> None:
        """Let Secrets Manager rotate the database's secret with dbguard's function (and its own
        schedule as a backstop), without rotating now, unless the secret is configured so already.
        Secrets Manager then runs testSecret once, on a copy of the current version."""
        versions = self._versions(entry)
        if versions is not None and versions.rotation_function != rotation.function_arn:
            self._secrets.start_rotation(versions.arn, rotation, immediately=False)

    # ------------------------------------------------------------------ Secrets Manager's protocol
    def step(self, entry: RegistryEntry, name: str, version_id: str) -> RotationResult | None:
        """One step of Secrets Manager's rotation (createSecret, setSecret, testSecret, finishSecret);
        finishSecret's result says how many tokens it expired. A failure is recorded on the entry (the
        scheduler waiting on this version learns it) and raised, so Secrets Manager stops this rotation."""
        steps: dict[str, Callable[[RegistryEntry, str], RotationResult | None]] = {
            "createSecret": self.create_pending,
            "testSecret": self.test_pending,
            "finishSecret": self.finish,
        }
        if name not in steps:
            return None  # setSecret (services/secrets_manager_rotation.py answers it without asking)
        try:
            return steps[name](entry, version_id)
        except Exception as error:
            self.record_failure(entry, error, name, version_id)
            raise

    def create_pending(self, entry: RegistryEntry, version_id: str) -> None:
        """createSecret: a new token as AWSPENDING under the version id Secrets Manager chose."""
        with self._lease(entry) as lease:
            versions = self._require_versions(entry)
            if versions.pending == version_id and self._pending_is_usable(versions.arn, version_id):
                return  # a retried step: the version is already there
            fresh = lease.entry or entry
            if not fresh.force_next_rotation:
                self._require_interval(fresh)
            token = self._new_token(fresh)
            lease.renew(self._now())
            try:
                self._secrets.put_pending(versions.arn, version_id, self._shape(fresh, token))
            except Exception:
                self._abandon(fresh, token.id)
                raise

    def test_pending(self, entry: RegistryEntry, version_id: str) -> None:
        """testSecret: the version's token must be readable and unexpired in JumpServer."""
        versions = self._require_versions(entry)
        self._verify(self._secrets.read(versions.arn, version_id).token_id)

    def finish(self, entry: RegistryEntry, version_id: str) -> RotationResult:
        """finishSecret: AWSCURRENT onto the version, then settle (expire what no label holds).
        Secrets Manager calls it only after testSecret checked the token in JumpServer, so the token
        is taken as createSecret wrote it (confirmed reusable, with its expiry) — unless a step of this
        rotation failed before (the entry's failedVersionId), which sends JumpServer a read again."""
        with self._lease(entry) as lease:
            versions = self._require_versions(entry)
            if versions.current != version_id:
                written = _WrittenToken.of(self._secrets.read(versions.arn, version_id))
                if (lease.entry or entry).failed_version_id == version_id:
                    self._verify(written.id)
                token = self._unexpired(written)
                lease.renew(self._now())
                self._secrets.promote(versions.arn, version_id, versions.current)
            else:
                token = None  # a retried step: promoted already, perhaps not yet settled
            return self._settle(self._latest(entry), lease, promoted=token)

    # ------------------------------------------------------------------ the protocol
    def _repair(
        self, entry: RegistryEntry, lease: Lease
    ) -> tuple[RotationResult | None, RegistryEntry, SecretVersions | None]:
        """Settle what a run that stopped half-way left: an AWSPENDING is promoted if its token is
        good (else dropped), the registry takes the secret's labels, journalled tokens no label
        holds are expired. Returns a result when that completed a rotation, the entry as now, and
        the labels it read when it changed nothing (else None: they must be read again)."""
        versions = self._versions(entry)
        if versions is None:
            return None, self._without_strays(entry), None
        if versions.pending and versions.pending != versions.current:
            token_id = self._token_id_or_none(versions.arn, versions.pending)
            current = versions.current and self._secrets.read(versions.arn, versions.current).token_id
            # (read strictly: a failed read taken for "no token" would have the copy promoted below)
            if token_id is not None and token_id == current:
                return None, entry, self._without_copy(entry, versions.arn, versions.pending)
            token = self._confirmed(token_id) if token_id else None
            if token is not None:
                logger.info("resuming an interrupted rotation", extra={"database": entry.name})
                self._secrets.promote(versions.arn, versions.pending, versions.current)
                return self._settle(entry, lease, promoted=token), self._latest(entry), None
            self._secrets.discard_pending(versions.arn, versions.pending)
            return None, self._settled(entry, lease, also=[token_id] if token_id else []), None
        if _journal_is_dirty(entry):
            settled = self._settled(entry, lease)
            if settled.current_token_id != entry.current_token_id:  # a promotion nobody recorded
                return RotationResult(entry.name, Outcome.ROTATED), settled, None
            return None, settled, None
        return None, entry, versions

    def _without_copy(self, entry: RegistryEntry, secret_arn: str, version_id: str) -> SecretVersions | None:
        """AWSPENDING holds the current value: Secrets Manager testing the configuration (RotateSecret,
        RotateImmediately=false) or a copy such a test left, not a rotation to resume: promoting it
        would put the current token under both labels and drop the previous one. Only its label goes
        (unless Secrets Manager took it off first); the labels as they are then."""
        try:
            self._secrets.discard_pending(secret_arn, version_id)
        except Exception:
            now = self._secrets.versions(secret_arn)
            if now is None or now.pending == version_id:
                raise
        return self._versions(entry)

    def _without_strays(self, entry: RegistryEntry) -> RegistryEntry:
        """No secret yet (a first secret that failed): no label can hold a journalled token."""
        if not _journal_is_dirty(entry):
            return entry
        strays = sorted({*entry.retired_token_ids, *filter(None, [entry.pending_token_id])})
        still_valid = self._expire(strays)
        self._registry.save_rotation_state(
            entry.cmdb_id, RotationStateChange(pending_token_id=None, retired_token_ids=still_valid)
        )
        return self._latest(entry)

    def _settled(self, entry: RegistryEntry, lease: Lease, also: Iterable[str] = ()) -> RegistryEntry:
        self._settle(entry, lease, also=also)
        return self._latest(entry)

    def _rotate(
        self,
        entry: RegistryEntry,
        lease: Lease,
        versions: SecretVersions | None = None,
        *,
        releasing: bool = False,
    ) -> RotationResult:
        """`versions`: the labels _repair read under this same lease, if it had nothing to change;
        `releasing`: the lease is this rotation's own, to give up with its last write."""
        versions = versions or self._versions(entry)
        lease.renew(self._now())
        token = self._new_token(entry)
        if versions is None:
            return self._first_secret(entry, token, lease, releasing=releasing)
        lease.renew(self._now())
        try:
            # AWSCURRENT at once: written, the token is in use, and a run stopped from here on is a
            # promotion the registry did not record, which the next run's _repair records
            self._secrets.put_current(versions.arn, str(uuid.uuid4()), self._shape(entry, token))
        except Exception:
            self._abandon(entry, token.id)  # keeps the token if the write happened after all
            raise
        # `entry` is as _repair left it; the only registry write since is this token's journal entry.
        # The labels are read again before anything is expired: the one check the invariant rests on.
        return self._settle(entry, lease, promoted=token, issued=True, releasing=releasing)

    def _new_token(self, entry: RegistryEntry) -> IssuedToken:
        """A token confirmed reusable and unexpired by JumpServer's own answer: the only kind ever
        written to a secret."""
        created = self._issue(entry)
        # journalled (and an operator's force, used up) before anything can lose it
        journal = RotationStateChange(pending_token_id=created.id, force_next_rotation=None)
        self._registry.save_rotation_state(entry.cmdb_id, journal)
        try:
            token = self._tokens.make_token_reusable(created)
            if not token.is_reusable:
                raise TokenRejected(f"JumpServer did not make token {token.id} reusable")
            return self._unexpired(token)
        except Exception:
            self._abandon(entry, created.id)
            raise

    def _issue(self, entry: RegistryEntry) -> IssuedToken:
        try:
            return self._tokens.create_connection_token(entry.asset_id, entry.account, entry.protocol)
        except PermissionMissing:
            # earlier dbguard versions named the account (not its username) in the permission, which
            # grants nothing on a real server: correct the permission once, then ask again
            logger.warning("repairing the asset permission", extra={"database": entry.name})
            self._tokens.ensure_permission(entry.asset_id, entry.account)
            return self._tokens.create_connection_token(entry.asset_id, entry.account, entry.protocol)

    def _first_secret(
        self, entry: RegistryEntry, token: IssuedToken, lease: Lease, *, releasing: bool
    ) -> RotationResult:
        name = self._secrets.name_of(entry.name)
        try:
            # journalled first: a later run (after a rename, too) looks for the secret where it was made
            self._registry.save_rotation_state(entry.cmdb_id, RotationStateChange(secret_arn=name))
            tags = {"app": "dbguard", OWNER_TAG: entry.cmdb_id}
            self._secrets.create_secret(name, self._shape(entry, token), str(uuid.uuid4()), tags)
        except Exception:
            self._abandon(entry, token.id)  # keeps the token if the secret was created after all
            raise
        # as in _rotate: the only registry write since `entry` was read is this token's journal entry
        return self._settle(entry, lease, promoted=token, issued=True, releasing=releasing)

    # ------------------------------------------------------------------ settling
    def _settle(
        self,
        entry: RegistryEntry,
        lease: Lease,
        *,
        promoted: IssuedToken | None = None,
        also: Iterable[str] = (),
        issued: bool = False,
        releasing: bool = False,
    ) -> RotationResult:
        """Make the registry agree with the secret's labels, read now, and expire every token it knows
        of that no label holds. Journals first, so an expiry that fails is retried by the next run.
        `issued`: this run issued `promoted` and journalled it, the registry's only change since
        `entry`; `releasing`: the settle's last write also gives up the lease (the run's own)."""
        lease.renew(self._now())
        versions = self._require_versions(entry)
        labelled = self._labelled_tokens(versions, promoted, _recorded_version(entry))
        current, previous = _token_of(labelled, versions.current), _token_of(labelled, versions.previous)
        known = {
            entry.current_token_id, entry.previous_token_id, entry.pending_token_id,
            *entry.retired_token_ids, *also, promoted.id if promoted else None,
        }  # fmt: skip
        retire = sorted(token for token in known - set(labelled.values()) if token)
        change = RotationStateChange(
            secret_arn=versions.arn, current_token_id=current, current_version_id=versions.current,
            previous_token_id=previous, pending_token_id=None, retired_token_ids=retire,
        )  # fmt: skip
        if current != entry.current_token_id:  # a promotion this run or an unrecorded one
            promotion = RotationStateChange(
                last_rotated_at=int(self._now()), last_rotation_error=None, rotation_failures=None,
                failed_version_id=None, service_refused=None,
                current_token_expires_at=self._expiry_of(versions, promoted),
            )  # fmt: skip
            change = change.merged(promotion)
            if entry.last_rotation_error is not None:  # the row of failures ends
                self._events.publish(ROTATION_SOURCE, ROTATION_RECOVERED_DETAIL_TYPE, {
                    "database": entry.name, "cmdbId": entry.cmdb_id,
                    "failedAttempts": entry.rotation_failures or 1,
                })  # fmt: skip
        if issued and not _journal_is_dirty(entry):
            # The registry names every token to expire already (its current and previous token) and
            # this run's journalled token keeps its journal dirty: a run stopped before the write
            # below leaves a state the next one settles again. So it is written once, after expiring.
            still_valid = self._expire(retire)
            settled = change.merged(RotationStateChange(retired_token_ids=still_valid))
            self._registry.save_rotation_state(entry.cmdb_id, settled, release=lease if releasing else None)
        else:
            self._registry.save_rotation_state(entry.cmdb_id, change)  # journalled before expired
            still_valid = self._expire(retire)
            if still_valid != retire:
                self._registry.save_rotation_state(
                    entry.cmdb_id, RotationStateChange(retired_token_ids=still_valid)
                )
        if promoted is not None:
            logger.info(
                "rotated",
                extra={"database": entry.name, "token_id": promoted.id,
                       "expires_at": promoted.date_expired.isoformat()},
            )  # fmt: skip
        return RotationResult(
            entry.name, Outcome.ROTATED, expires_at=promoted.date_expired if promoted else None,
            tokens_expired=len(retire) - len(still_valid),
        )  # fmt: skip

    def _labelled_tokens(
        self,
        versions: SecretVersions,
        promoted: IssuedToken | None,
        recorded: dict[str, str] | None = None,
    ) -> dict[str, str]:
        """version id -> token id for every version carrying a label (the tokens never to expire).
        `recorded`: version id -> token id the registry vouches for (_recorded_version)."""
        recorded = recorded or {}
        labelled = {}
        for version_id in filter(None, (versions.current, versions.previous, versions.pending)):
            if promoted is not None and version_id == versions.current:
                labelled[version_id] = promoted.id  # just written: no need to read it back
            elif version_id in recorded:
                labelled[version_id] = recorded[version_id]
            elif (token_id := self._token_in(versions, version_id)) is not None:
                labelled[version_id] = token_id
        return labelled

    def _token_in(self, versions: SecretVersions, version_id: str) -> str | None:
        try:
            return self._secrets.read(versions.arn, version_id).token_id
        except SecretValueNotFound:
            if version_id != versions.pending:
                raise
            return None  # rotate-secret labels AWSPENDING before createSecret writes it: no token yet

    def _expiry_of(self, versions: SecretVersions, promoted: IssuedToken | None) -> int | None:
        if promoted is not None:
            return int(promoted.date_expired.timestamp())
        if versions.current is None:
            return None
        return int(self._secrets.read(versions.arn, versions.current).expires_at.timestamp())

    # ------------------------------------------------------------------ helpers
    def _lease(self, entry: RegistryEntry) -> AbstractContextManager[Lease]:
        return self._registry.lease(entry.cmdb_id, int(self._now()), self._lease_seconds)

    def _now(self) -> float:
        return self._clock().timestamp()

    def _latest(self, entry: RegistryEntry) -> RegistryEntry:
        return self._registry.get(entry.cmdb_id) or entry

    def _require_interval(self, entry: RegistryEntry) -> None:
        if entry.last_rotated_at is None or not self._min_interval:
            return
        age = int(self._now()) - entry.last_rotated_at
        if age < self._min_interval:
            raise RotationTooSoon(
                f"{entry.name} was rotated {age} s ago; applications may cache its secret for "
                f"ConsumerCacheSeconds ({self._min_interval} s) and another rotation now would expire the "
                "token they hold. Wait, or ask with force (breaks cached consumers)"
            )

    def _require_versions(self, entry: RegistryEntry) -> SecretVersions:
        versions = self._versions(entry)
        if versions is None:
            raise LookupError(f"{entry.name} has no secret yet; it gets one when the CMDB registers it")
        return versions

    def _pending_is_usable(self, secret_arn: str, version_id: str) -> bool:
        token_id = self._token_id_or_none(secret_arn, version_id)
        return token_id is not None and self._confirmed(token_id) is not None

    def _token_id_or_none(self, secret_arn: str, version_id: str) -> str | None:
        try:
            return self._secrets.read(secret_arn, version_id).token_id
        except Exception:  # no value yet (the version was only labelled) or not ours
            return None

    def _versions(self, entry: RegistryEntry) -> SecretVersions | None:
        """The labels of the database's own secret; None before it has one; SecretNotOwned when the
        secret where it should be belongs to another database or to someone else (never touched)."""
        versions = owned_secret(self._secrets, entry.cmdb_id, entry.secret_arn, entry.name)
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
        return self._unexpired(token)

    def _unexpired(self, token: IssuedToken) -> IssuedToken:
        if token.is_expired or token.date_expired <= self._clock():
            raise TokenRejected(f"token {token.id} is already expired")
        return token

    def _abandon(self, entry: RegistryEntry, token_id: str) -> None:
        """Undo a rotation that failed before promotion. The token is expired only if no label of the
        secret holds it (a write that timed out may have happened); else it stays journalled."""
        try:
            versions = self._versions(entry)
            if versions is not None and token_id in self._labelled_tokens(versions, None).values():
                return
            self._tokens.expire_connection_token(token_id)
            self._registry.save_rotation_state(entry.cmdb_id, RotationStateChange(pending_token_id=None))
        except Exception as error:
            logger.warning(
                "cleanup deferred to the next run",
                extra={"database": entry.name, "error": describe_error(error)},
            )

    def _expire(self, token_ids: list[str]) -> list[str]:
        """Expire each token; return those JumpServer could not be told about (to retry later)."""
        failed: list[str] = []
        for token_id in token_ids:
            try:
                self._tokens.expire_connection_token(token_id)
            except Exception as error:
                logger.warning(
                    "token expiry deferred", extra={"token_id": token_id, "error": describe_error(error)}
                )
                failed.append(token_id)
        return failed


def _token_of(labelled: dict[str, str], version_id: str | None) -> str | None:
    return labelled.get(version_id) if version_id else None


def _recorded_version(entry: RegistryEntry) -> dict[str, str]:
    """The registry's AWSCURRENT version and its token, when the registry can vouch for them: a settle
    recorded both from the labels, a version's value never changes, and a clean journal means no run
    stopped since. Otherwise nothing: the value is read."""
    if entry.current_version_id and entry.current_token_id and not _journal_is_dirty(entry):
        return {entry.current_version_id: entry.current_token_id}
    return {}


def _journal_is_dirty(entry: RegistryEntry) -> bool:
    """A run stopped after journalling: the registry may lag behind the secret's labels."""
    return bool(entry.pending_token_id or entry.retired_token_ids)

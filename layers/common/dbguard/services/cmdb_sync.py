"""Apply one CMDB change to JumpServer, the registry and Secrets Manager.

Changes arrive at least once and in any order. A change not newer than the version the registry
recorded is ignored. A change is applied under the database's lease (so a rotation cannot run in
between), and its version is recorded only once everything is done: a change that fails half-way
is retried in full, and every step is idempotent, so a retry converges instead of duplicating.

dbguard marks the assets it manages with the label `dbguard:<cmdb id>`. An asset of the same name
without that label belongs to someone else and is never taken over.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from dbguard.cmdb.inventory import (
    AccountSource,
    AccountTemplate,
    AssetProtocol,
    DatabaseAsset,
    DatabaseAssetFields,
)
from dbguard.cmdb.models import MANAGED_LABEL, VERSION_LEAD_MS, CmdbChange, DescribedInstance
from dbguard.cmdb.ports import AccountCredentials, JumpServerInventory, SecretIssuer
from dbguard.engines import EngineProfile
from dbguard.errors import NameCollision, RejectedChange, SecretNotOwned
from dbguard.jumpserver import AlreadyExists, JumpServerAccount, NotInJumpServer, OutcomeUnknown
from dbguard.observability import logger
from dbguard.registry.lease import Lease, LeaseBusy
from dbguard.registry.models import EntryStatus, RegistryEntry, RotationStateChange
from dbguard.registry.ports import CmdbRegistry
from dbguard.secrets.ownership import owned_secret
from dbguard.secrets.ports import DatabaseSecretStore, RotationConfig, SecretVersions
from dbguard.validation import describe_error

# a retired database keeps no token: each was expired
TOKENS_FORGOTTEN = RotationStateChange(
    current_token_id=None,
    current_token_expires_at=None,
    previous_token_id=None,
    pending_token_id=None,
    retired_token_ids=[],
)


class SyncOutcome(StrEnum):
    REGISTERED = "registered"
    UPDATED = "updated"
    RETIRED = "retired"
    IGNORED_STALE = "ignored_stale"


@dataclass(frozen=True)
class SyncOptions:
    node_path_template: str
    account_name: str
    account_template_id: str | None
    hard_delete_assets: bool
    secret_recovery_window_days: int
    lease_seconds: int
    rotation: RotationConfig | None = None  # how Secrets Manager rotates its secrets (docs/rotation.md)


class CmdbSync:
    def __init__(
        self,
        jumpserver: JumpServerInventory,
        registry: CmdbRegistry,
        secrets: DatabaseSecretStore,
        credentials: AccountCredentials,
        rotator: SecretIssuer,
        engines: dict[str, EngineProfile],
        options: SyncOptions,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._jumpserver = jumpserver
        self._registry = registry
        self._secrets = secrets
        self._credentials = credentials
        self._rotator = rotator
        self._engines = engines
        self._options = options
        self._clock = clock

    def apply(self, change: CmdbChange) -> SyncOutcome:
        try:
            return self._apply(change)
        except LeaseBusy:
            raise
        except Exception as error:
            with suppress(Exception):  # the error itself is what the caller must see
                self._registry.record_sync_error(change.instance.id, describe_error(error))
            raise

    def _apply(self, change: CmdbChange) -> SyncOutcome:
        cmdb_id = change.instance.id
        self._require_reachable_version(change)
        if self._registry.is_stale(cmdb_id, change.version):
            return SyncOutcome.IGNORED_STALE
        now = int(self._clock().timestamp())
        with self._registry.lease(cmdb_id, now, self._options.lease_seconds) as lease:
            existing = self._registry.get(cmdb_id)
            if change.action == "delete":
                outcome = self._retire(change, existing)
            else:
                outcome = self._upsert(change, existing, lease)
            if not self._registry.confirm_version(cmdb_id, change.version):
                return SyncOutcome.IGNORED_STALE  # a newer change overtook this one mid-way
        return outcome

    def _require_reachable_version(self, change: CmdbChange) -> None:
        """A version beyond any millisecond timestamp of today would make every later change of the
        instance stale, its delete included, with no way back: refused before it is recorded."""
        now_ms = int(self._clock().timestamp() * 1000)
        if change.version > now_ms + VERSION_LEAD_MS:
            raise RejectedChange(
                f"version {change.version} is ahead of the current time in milliseconds ({now_ms}) by more "
                "than a day: use a counter or a timestamp in seconds or milliseconds"
            )

    # ------------------------------------------------------------------ upsert
    def _upsert(self, change: CmdbChange, existing: RegistryEntry | None, lease: Lease) -> SyncOutcome:
        instance = change.described()
        # Everything that can refuse the change is checked first, by reads only: a change refused
        # changes nothing (a refusal is never half-applied and then dead-lettered).
        profile = self._profile(instance)
        source = self._account_source(instance)
        found = self._find_asset(instance, existing)
        self._require_own_secret(instance, existing)
        if found is not None:
            self._jumpserver.require_account_fits(found.id, self._options.account_name, source)
        asset = self._place_asset(instance, profile, found)
        lease.renew(self._clock().timestamp())
        account = self._jumpserver.ensure_account(asset.id, self._options.account_name, source)
        self._jumpserver.ensure_permission(asset.id, account)
        lease.renew(self._clock().timestamp())
        saved = _entry(change, instance, profile, asset, account)
        self._registry.save_cmdb_state(saved)
        current = self._registry.get(instance.id) or saved  # with the rotation's attributes
        if self._needs_new_secret(existing, current, profile):
            self._rotator.rotate_under_lease(current, lease)
        if self._options.rotation is not None:
            self._rotator.configure_rotation(current, self._options.rotation)
        first = existing is None or not existing.is_active
        logger.info(
            "database registered" if first else "database updated",
            extra={"cmdb_id": instance.id, "database": instance.name, "asset_id": asset.id},
        )
        return SyncOutcome.REGISTERED if first else SyncOutcome.UPDATED

    def _profile(self, instance: DescribedInstance) -> EngineProfile:
        profile = self._engines.get(instance.engine.lower())
        if profile is None:
            known = ", ".join(sorted(self._engines))
            raise RejectedChange(f"engine {instance.engine!r} is not in the engine map (known: {known})")
        return profile

    def _require_own_secret(self, instance: DescribedInstance, existing: RegistryEntry | None) -> None:
        """The secret the database has, or would be given under its (new) name, is its own or none
        (secrets/ownership.py): SecretNotOwned otherwise."""
        recorded = existing.secret_arn if existing is not None else None
        owned_secret(self._secrets, instance.id, recorded, instance.name)

    def _find_asset(
        self, instance: DescribedInstance, existing: RegistryEntry | None
    ) -> DatabaseAsset | None:
        """The database's asset, if JumpServer has one (reads only): the one the registry knows (or an
        earlier attempt journalled before it failed: a newer change may have renamed the database
        meanwhile, so the name would not find it), else one of its name labelled as this database's.
        NameCollision when the name is held by any other asset."""
        known_id = existing.asset_id if existing is not None else self._registry.journalled_asset(instance.id)
        known = self._jumpserver.get_database(known_id) if known_id else None
        if known_id and known is None:  # removed in JumpServer by hand (or hard-deleted): recreated
            logger.warning("managed asset vanished; recreating", extra={"cmdb_id": instance.id})
        named = self._jumpserver.find_database(instance.name)
        if named is None or (known is not None and named.id == known.id):
            return known
        holder = named.labels.get(MANAGED_LABEL)
        if holder == instance.id and known is None:
            return named  # made by an earlier attempt that could not journal it: adopted by its label
        raise NameCollision(_name_taken(instance, named, holder))

    def _place_asset(
        self, instance: DescribedInstance, profile: EngineProfile, found: DatabaseAsset | None
    ) -> DatabaseAsset:
        fields = self._asset_fields(instance, profile)
        if found is not None:
            return self._jumpserver.update_database(found.id, fields)
        created = self._create_asset(instance, fields)
        self._registry.journal_asset(instance.id, created.id)
        return created

    def _create_asset(self, instance: DescribedInstance, fields: DatabaseAssetFields) -> DatabaseAsset:
        try:
            return self._jumpserver.create_database(fields)
        except (OutcomeUnknown, AlreadyExists):
            # the create may have been applied (an answer lost, or a request that hung past the
            # timeout landed since): look before anything is repeated
            created = self._jumpserver.find_database(instance.name)
            if created is None or created.labels.get(MANAGED_LABEL) != instance.id:
                raise
            return created

    def _asset_fields(self, instance: DescribedInstance, profile: EngineProfile) -> DatabaseAssetFields:
        node_path = self._options.node_path_template.format(environment=instance.environment)
        return DatabaseAssetFields(
            name=instance.name,
            address=instance.host,
            db_name=instance.database,
            is_active=True,
            platform=self._jumpserver.platform_id(profile.platform),
            nodes=[self._jumpserver.ensure_node(node_path)],
            protocols=[AssetProtocol(name=profile.protocol, port=instance.port)],
            labels={**instance.labels, MANAGED_LABEL: instance.id},
        )

    def _account_source(self, instance: DescribedInstance) -> AccountSource:
        """The database account's credentials (or the account template), checked before anything is
        changed: a change that may not use them changes nothing."""
        if instance.credentials_secret_arn:
            return self._credentials.read(instance.credentials_secret_arn, instance.id)
        if self._options.account_template_id:
            return AccountTemplate(id=self._options.account_template_id)
        raise RejectedChange(
            f"{instance.id}: no instance.credentialsSecretArn in the event and no JumpServer account "
            "template configured (JumpServerAccountTemplateId): dbguard has no credentials to register"
        )

    def _needs_new_secret(
        self, before: RegistryEntry | None, after: RegistryEntry, profile: EngineProfile
    ) -> bool:
        """A first secret, or one whose content (asset, account, database name, engine) no longer
        fits: changed by this change, or by an earlier one that saved the registry but failed before
        its new secret was made (its retry, or a newer change, finds the registry as it left it)."""
        if before is None or not before.is_active or after.current_token_id is None:
            return True
        return _secret_inputs(before) != _secret_inputs(after) or not self._secret_fits(after, profile)

    def _secret_fits(self, entry: RegistryEntry, profile: EngineProfile) -> bool:
        versions = owned_secret(self._secrets, entry.cmdb_id, entry.secret_arn, entry.name)
        if versions is None or versions.current is None or versions.scheduled_for_deletion:
            return False  # the rotation makes (or restores) it
        secret = self._secrets.read(versions.arn, versions.current)
        made_for = (secret.jumpserver_asset_id, secret.dbname, secret.engine)
        return made_for == (entry.asset_id, entry.database, profile.rds_engine)

    # ------------------------------------------------------------------ delete
    def _retire(self, change: CmdbChange, existing: RegistryEntry | None) -> SyncOutcome:
        if existing is None or not existing.is_active:
            # nothing registered to undo but an asset a failed registration may have left; recording
            # the version keeps a late, older upsert from reviving it
            orphan = self._registry.journalled_asset(change.instance.id) if existing is None else None
            if orphan is not None:
                self._retire_asset(orphan)
            return SyncOutcome.RETIRED
        self._retire_asset(existing.asset_id)
        token_ids = [
            existing.current_token_id, existing.previous_token_id, existing.pending_token_id,
            *existing.retired_token_ids,
        ]  # fmt: skip
        for token_id in filter(None, token_ids):
            self._jumpserver.expire_connection_token(token_id)
        secret = self._own_secret_or_none(existing)
        if secret is not None:
            self._secrets.schedule_deletion(secret.arn, self._options.secret_recovery_window_days)
        # retired last: a retry after a failure before it finds the entry active and retires it again
        self._registry.save_rotation_state(existing.cmdb_id, TOKENS_FORGOTTEN)
        retired = existing.model_copy(
            update={
                "status": EntryStatus.RETIRED,
                "version": change.version,
                "changed_at": change.changed_at.isoformat(),
            }
        )
        self._registry.save_cmdb_state(retired)
        logger.info("database retired", extra={"cmdb_id": existing.cmdb_id, "database": existing.name})
        return SyncOutcome.RETIRED

    def _own_secret_or_none(self, entry: RegistryEntry) -> SecretVersions | None:
        try:
            return owned_secret(self._secrets, entry.cmdb_id, entry.secret_arn, entry.name)
        except SecretNotOwned as foreign:  # never deleted: it is another database's, or not dbguard's
            logger.warning("secret left alone", extra={"cmdb_id": entry.cmdb_id, "reason": str(foreign)})
            return None

    def _retire_asset(self, asset_id: str) -> None:
        with suppress(NotInJumpServer):  # already gone: the goal is reached
            if self._options.hard_delete_assets:
                self._jumpserver.delete_database(asset_id)
            else:
                self._jumpserver.deactivate_database(asset_id)


def _entry(
    change: CmdbChange,
    instance: DescribedInstance,
    profile: EngineProfile,
    asset: DatabaseAsset,
    account: JumpServerAccount,
) -> RegistryEntry:
    return RegistryEntry(
        cmdb_id=instance.id,
        name=instance.name,
        status=EntryStatus.ACTIVE,
        version=change.version,
        changed_at=change.changed_at.isoformat(),
        engine=instance.engine.lower(),
        host=instance.host,
        port=instance.port,
        database=instance.database,
        environment=instance.environment,
        labels=instance.labels,
        asset_id=asset.id,
        account=account,
        protocol=profile.protocol,
    )


def _name_taken(instance: DescribedInstance, asset: DatabaseAsset, holder: str | None) -> str:
    taken = f"JumpServer already has an asset named {instance.name!r} (id {asset.id})"
    if holder is None:
        return (
            f"{taken} that dbguard does not manage (no label {MANAGED_LABEL}:{instance.id}); rename one of "
            "them, or add that label in JumpServer to hand the asset over to dbguard"
        )
    if holder == instance.id:
        return f"{taken}, labelled {MANAGED_LABEL}:{holder} as well as this database's own asset: remove one"
    return f"{taken} that belongs to the database {holder}: the CMDB gives two databases one name"


def _secret_inputs(entry: RegistryEntry) -> tuple[object, ...]:
    # the account by id: a username newly recorded for an older entry changes no secret
    return (entry.asset_id, entry.account.id, entry.protocol, entry.database, entry.engine)

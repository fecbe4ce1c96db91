"""CmdbSync with in-memory fakes of every port (dbguard_testkit/fakes): JumpServer, the registry, the database
secrets, the credentials secrets, and the real Rotator on top of the same fakes."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from dbguard.cmdb.inventory import AssetProtocol, DatabaseAssetFields
from dbguard.cmdb.models import CmdbChange
from dbguard.engines import DEFAULT_ENGINES
from dbguard.registry.models import RegistryEntry
from dbguard.secrets.contract import DatabaseSecret
from dbguard.services.cmdb_sync import CmdbSync, SyncOptions, SyncOutcome
from dbguard.services.rotator import Rotator
from dbguard_testkit.fakes.clock import FakeClock
from dbguard_testkit.fakes.credentials import FakeCredentials
from dbguard_testkit.fakes.jumpserver import PLATFORMS, FakeJumpServer
from dbguard_testkit.fakes.registry import FakeRegistry
from dbguard_testkit.fakes.secrets import FakeSecrets, shape
from dbguard_testkit.faults import FaultPlan, Faulty
from dbguard_testkit.samples import cmdb_change, credentials_secret_arn

LEASE_SECONDS = 900
CMDB_ID = "cmdb-4711"
NAME = "billing-qhb-01"
CREDENTIALS = credentials_secret_arn("cmdb/billing-qhb-01")  # what dbguard_testkit.samples.cmdb_change names


@dataclass
class SyncWorld:
    clock: FakeClock = field(default_factory=FakeClock)
    registry: FakeRegistry = field(default_factory=FakeRegistry)
    secrets: FakeSecrets = field(default_factory=FakeSecrets)
    credentials: FakeCredentials = field(default_factory=FakeCredentials)
    jumpserver: FakeJumpServer = field(init=False)
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.jumpserver = FakeJumpServer(self.clock)
        self.credentials.add(CREDENTIALS, "app_billing", "db-Pa55-word", bound_to=f"{CMDB_ID} cmdb-other")

    def sync(self, plan: FaultPlan | None = None) -> CmdbSync:
        """The sync; with a plan, every call of its ports (and of the rotator's) goes through it."""
        parts: dict[str, Any] = {
            "jumpserver": self.jumpserver, "registry": self.registry, "secrets": self.secrets,
            "credentials": self.credentials,
        }  # fmt: skip
        if plan is not None:
            parts = {name: Faulty(part, plan) for name, part in parts.items()}
        rotator = self.rotator(parts["jumpserver"], parts["secrets"], parts["registry"])
        options = SyncOptions(**{
            "node_path_template": "dbguard/{environment}", "account_name": "dbguard",
            "account_template_id": None, "hard_delete_assets": False, "secret_recovery_window_days": 7,
            "lease_seconds": LEASE_SECONDS, **self.options,
        })  # fmt: skip
        return CmdbSync(
            parts["jumpserver"], parts["registry"], parts["secrets"], parts["credentials"], rotator,
            DEFAULT_ENGINES, options, clock=self.clock,
        )  # fmt: skip

    def apply(self, action: str = "upsert", version: int = 1, plan: FaultPlan | None = None,
              **instance: Any) -> SyncOutcome:  # fmt: skip
        change = CmdbChange.model_validate(cmdb_change(action, version, **instance))
        return self.sync(plan).apply(change)

    def rotator(self, tokens: Any = None, secrets: Any = None, registry: Any = None) -> Rotator:
        return Rotator(
            tokens or self.jumpserver, secrets or self.secrets, registry or self.registry, shape,
            lease_seconds=LEASE_SECONDS, clock=self.clock,
        )  # fmt: skip

    def rotate(self, cmdb_id: str = CMDB_ID) -> None:
        """A scheduled rotation of the database (the one before is AWSPREVIOUS afterwards)."""
        assert self.rotator().rotate(self.entry(cmdb_id), force=True).status == "rotated"

    def add_asset(self, name: str, labels: dict[str, str] | None = None) -> str:
        """An asset someone made in JumpServer, not through dbguard; its id."""
        fields = DatabaseAssetFields(
            name=name, address="10.0.0.9", platform=PLATFORMS["MySQL"],
            protocols=[AssetProtocol(name="mysql", port=3306)], labels=labels or {},
        )  # fmt: skip
        return self.jumpserver.create_database(fields).id

    def entry(self, cmdb_id: str = CMDB_ID) -> RegistryEntry:
        entry = self.registry.get(cmdb_id)
        assert entry is not None, f"{cmdb_id} is not registered"
        return entry

    def secret(self, cmdb_id: str = CMDB_ID) -> DatabaseSecret:
        """The AWSCURRENT value of the database's secret (a rename keeps the secret: its ARN is kept)."""
        entry = self.entry(cmdb_id)
        versions = self.secrets.versions(entry.secret_arn or self.secrets.name_of(entry.name))
        assert versions is not None, f"{cmdb_id} has no secret"
        assert versions.current is not None
        return self.secrets.read(versions.arn, versions.current)

    def snapshot(self) -> dict[str, Any]:
        """What a refused change must leave as it found it: JumpServer's objects, every secret, and
        the registry but for the error it records there (and a lease, given up by then)."""
        kept = {"lastSyncError", "leaseUntil", "leaseOwner"}
        registry = {
            key: {k: v for k, v in item.items() if k not in kept} for key, item in self.registry.items.items()
        }
        registry = {key: item for key, item in registry.items() if item}  # a lease taken and given up
        return copy.deepcopy({
            "nodes": self.jumpserver.nodes, "assets": self.jumpserver.assets,
            "accounts": self.jumpserver.accounts, "permissions": self.jumpserver.permissions,
            "tokens": self.jumpserver.tokens, "secrets": self.secrets.secrets, "registry": registry,
        })  # fmt: skip

    # ---------------------------------------------------------------- the invariants
    def assert_registered(self, cmdb_id: str = CMDB_ID, *, settled: bool = True) -> None:
        """One active asset, account and permission for the database, as the registry records them,
        and a secret whose current token JumpServer accepts, made for what the registry holds.
        Unless `settled`, the registry may still journal that token as pending: a rotation stopped
        after it promoted the token, and the next one settles it first (services/rotator.py)."""
        entry = self.entry(cmdb_id)
        assert entry.is_active
        assert [a.id for a in self.jumpserver.labelled(cmdb_id)] == [entry.asset_id]
        asset = self.jumpserver.assets[entry.asset_id]
        assert (asset.name, asset.address, asset.db_name, asset.is_active) == (
            entry.name, entry.host, entry.database, True,
        )  # fmt: skip
        assert [p.name for p in asset.protocols] == [entry.protocol]
        [account] = self.jumpserver.accounts_of(asset.id)
        assert entry.account == account.answer()
        [permission] = self.jumpserver.permissions_of(asset.id)
        assert account.username in permission.accounts
        secret = self.secret(cmdb_id)
        recorded = {entry.current_token_id} if settled else {entry.current_token_id, entry.pending_token_id}
        assert secret.token_id in recorded
        assert self.jumpserver.is_valid(secret.token_id)
        assert (secret.jumpserver_asset_id, secret.dbname, secret.engine) == (
            entry.asset_id, entry.database, DEFAULT_ENGINES[entry.engine].rds_engine,
        )  # fmt: skip
        assert self.jumpserver.tokens[secret.token_id].protocol == entry.protocol

    def assert_retired(self, cmdb_id: str = CMDB_ID) -> None:
        """No active asset labelled for the database, no valid token of it, its secret on its way out."""
        entry = self.entry(cmdb_id)
        assert not entry.is_active
        assert [a.id for a in self.jumpserver.labelled(cmdb_id) if a.is_active] == []
        assert self.jumpserver.live_tokens(entry.asset_id) == set()
        assert (entry.current_token_id, entry.previous_token_id, entry.pending_token_id) == (None,) * 3
        secret = self.secrets.versions(entry.secret_arn or self.secrets.name_of(entry.name))
        assert secret is None or secret.scheduled_for_deletion


@pytest.fixture
def world() -> SyncWorld:
    return SyncWorld()

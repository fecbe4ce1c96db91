"""JumpServer in memory, as cmdb_sync and the rotation see it: the inventory (cmdb/ports.py
JumpServerInventory) on top of the connection tokens (dbguard_testkit/fakes/tokens.py), with the simulator's
rules (jumpserver_sim/api.py) that cmdb_sync depends on:

- asset names are unique in the organisation (create and rename alike);
- nodes are paths under the organisation's root; "" is the root itself;
- an asset has one account of a name (and one of a username); the username of an account never
  changes, only its secret does; an account from a template takes the template's name and username;
- a permission grants the accounts whose *username* it names, on its assets; a token needs one;
- a deactivated asset stays (inactive, still found by its name); a deleted one goes with its accounts
  and drops out of the permissions that named it.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field

from dbguard.cmdb.inventory import (
    AccountSource,
    AccountTemplate,
    AssetProtocol,
    DatabaseAsset,
    DatabaseAssetFields,
)
from dbguard.errors import ConfigurationError, RejectedChange, Unretryable
from dbguard.jumpserver import AlreadyExists, JumpServerAccount, NotInJumpServer, PermissionMissing
from dbguard_testkit.fakes.clock import FakeClock
from dbguard_testkit.fakes.tokens import FakeConnectionTokens, FakeToken

PLATFORMS = {"MySQL": 17, "MariaDB": 18, "PostgreSQL": 19}  # v4's ids (jumpserver_sim/state.py)
ROOT_NODE = "00000000-0000-0000-0000-00000000000r"


class Conflict(AlreadyExists):
    """What JumpServer answers (400) a create whose name or username exists already (the client's
    JumpServerConflict)."""


class Rejected(Unretryable):
    """What JumpServer answers (400) a request it refuses: repeating it will not help (the client's
    JumpServerRejected)."""


@dataclass
class StoredAsset:
    id: str
    name: str
    address: str
    platform: int
    nodes: list[str]
    protocols: list[AssetProtocol]
    db_name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    is_active: bool = True

    def answer(self) -> DatabaseAsset:
        return DatabaseAsset(
            id=self.id, name=self.name, address=self.address, db_name=self.db_name,
            is_active=self.is_active, labels=dict(self.labels),
        )  # fmt: skip


@dataclass
class StoredAccount:
    id: str
    asset_id: str
    name: str
    username: str
    secret: str | None  # None: the template's

    def answer(self) -> JumpServerAccount:
        return JumpServerAccount(id=self.id, name=self.name, username=self.username)


@dataclass
class StoredPermission:
    name: str
    assets: list[str]
    accounts: list[str]  # usernames and aliases (@SPEC)


class FakeJumpServer(FakeConnectionTokens):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.nodes: dict[str, str] = {"": ROOT_NODE}  # path under the root -> id
        self.assets: dict[str, StoredAsset] = {}
        self.accounts: dict[str, StoredAccount] = {}
        self.permissions: dict[str, StoredPermission] = {}  # by name
        self.templates: dict[str, tuple[str, str]] = {}  # id -> (name, username)

    # ------------------------------------------------------------------ server facts
    def platform_id(self, name: str) -> int:
        if name not in PLATFORMS:
            raise ConfigurationError(f"JumpServer shows no platform named {name!r}")
        return PLATFORMS[name]

    def ensure_node(self, path: str) -> str:
        return self.nodes.setdefault(path.strip("/"), str(uuid.uuid4()))

    # ------------------------------------------------------------------ database assets
    def get_database(self, asset_id: str) -> DatabaseAsset | None:
        found = self.assets.get(asset_id)
        return found.answer() if found is not None else None

    def find_database(self, name: str) -> DatabaseAsset | None:
        found = next((asset for asset in self.assets.values() if asset.name == name), None)
        return found.answer() if found is not None else None

    def create_database(self, fields: DatabaseAssetFields) -> DatabaseAsset:
        if not (fields.name and fields.address and fields.platform and fields.protocols):
            raise Rejected("name, address, platform and protocols are required")
        self._require_unique_name(fields.name, None)
        self._require_known(fields)
        asset = StoredAsset(
            id=str(uuid.uuid4()), name=fields.name, address=fields.address, platform=fields.platform,
            nodes=list(fields.nodes or [ROOT_NODE]), protocols=list(fields.protocols),
            db_name=fields.db_name, labels=dict(fields.labels or {}),
            is_active=fields.is_active is not False,
        )  # fmt: skip
        self.assets[asset.id] = asset
        return asset.answer()

    def update_database(self, asset_id: str, fields: DatabaseAssetFields) -> DatabaseAsset:
        asset = self._asset(asset_id)
        if fields.name is not None:
            self._require_unique_name(fields.name, asset_id)
        self._require_known(fields)
        for name in fields.model_dump(exclude_none=True):  # unset fields keep what the asset has
            setattr(asset, name, copy.copy(getattr(fields, name)))
        return asset.answer()

    def deactivate_database(self, asset_id: str) -> None:
        self._asset(asset_id).is_active = False

    def delete_database(self, asset_id: str) -> None:
        del self.assets[self._asset(asset_id).id]
        for account in self.accounts_of(asset_id):
            del self.accounts[account.id]
        for permission in self.permissions.values():
            permission.assets = [asset for asset in permission.assets if asset != asset_id]

    # ------------------------------------------------------------------ accounts and permissions
    def require_account_fits(self, asset_id: str, name: str, source: AccountSource) -> None:
        self._fitting_account(asset_id, name, source)

    def ensure_account(self, asset_id: str, name: str, source: AccountSource) -> JumpServerAccount:
        name, username, existing = self._fitting_account(asset_id, name, source)
        secret = None if isinstance(source, AccountTemplate) else source.password.get_secret_value()
        if existing is None:
            return self._new_account(asset_id, name, username, secret).answer()
        if secret is not None:
            existing.secret = secret
        return existing.answer()

    def ensure_permission(self, asset_id: str, account: JumpServerAccount) -> None:
        username = account.username or self._account_on(asset_id, account.id).username
        name = f"dbguard-{asset_id}"
        self.permissions[name] = StoredPermission(name, [asset_id], ["@SPEC", username])
        super().ensure_permission(asset_id, account)

    # ------------------------------------------------------------------ connection tokens
    def create_connection_token(self, asset_id: str, account: JumpServerAccount, protocol: str) -> FakeToken:
        if asset_id not in self.assets:
            raise Rejected(f"asset {asset_id} does not exist")
        if not self._permits(asset_id, account.id):
            raise PermissionMissing(f"no permission covers asset {asset_id} and account {account.name}")
        return super().create_connection_token(asset_id, account, protocol)

    # ------------------------------------------------------------------ for tests
    def add_template(self, name: str, username: str) -> str:
        template_id = str(uuid.uuid4())
        self.templates[template_id] = (name, username)
        return template_id

    def accounts_of(self, asset_id: str) -> list[StoredAccount]:
        return [account for account in self.accounts.values() if account.asset_id == asset_id]

    def permissions_of(self, asset_id: str) -> list[StoredPermission]:
        return [permission for permission in self.permissions.values() if asset_id in permission.assets]

    def labelled(self, cmdb_id: str) -> list[StoredAsset]:
        """The assets marked as dbguard's for this CMDB id."""
        return [asset for asset in self.assets.values() if asset.labels.get("dbguard") == cmdb_id]

    # ------------------------------------------------------------------ rules
    def _asset(self, asset_id: str) -> StoredAsset:
        if asset_id not in self.assets:
            raise NotInJumpServer(f"asset {asset_id}")
        return self.assets[asset_id]

    def _fitting_account(
        self, asset_id: str, name: str, source: AccountSource
    ) -> tuple[str, str, StoredAccount | None]:
        if isinstance(source, AccountTemplate):
            if source.id not in self.templates:
                raise NotInJumpServer(f"account template {source.id}")
            name, username = self.templates[source.id]
        else:
            username = source.username
        existing = next((a for a in self.accounts_of(asset_id) if a.name == name), None)
        if existing is not None and existing.username != username:
            raise RejectedChange(f"account {name} on asset {asset_id} has another user name")
        return name, username, existing

    def _account_on(self, asset_id: str, account_id: str) -> StoredAccount:
        found = next((a for a in self.accounts_of(asset_id) if a.id == account_id), None)
        if found is None:
            raise NotInJumpServer(f"account {account_id} is not on asset {asset_id}")
        return found

    def _new_account(self, asset_id: str, name: str, username: str, secret: str | None) -> StoredAccount:
        if asset_id not in self.assets:
            raise Rejected(f"asset {asset_id} not found")
        if any(account.username == username for account in self.accounts_of(asset_id)):
            raise Conflict(f"asset {asset_id} has an account of username {username} already")
        account = StoredAccount(str(uuid.uuid4()), asset_id, name, username, secret)
        self.accounts[account.id] = account
        return account

    def _require_unique_name(self, name: str, asset_id: str | None) -> None:
        if any(asset.name == name and asset.id != asset_id for asset in self.assets.values()):
            raise Conflict(f"name {name!r}: this field must be unique")

    def _require_known(self, fields: DatabaseAssetFields) -> None:
        if fields.platform is not None and fields.platform not in PLATFORMS.values():
            raise Rejected(f"platform {fields.platform} does not exist")
        unknown = set(fields.nodes or []) - set(self.nodes.values())
        if unknown:
            raise Rejected(f"nodes {sorted(unknown)} do not exist")

    def _permits(self, asset_id: str, account_id: str) -> bool:
        account = next((a for a in self.accounts_of(asset_id) if a.id == account_id), None)
        return account is not None and any(
            account.username in permission.accounts for permission in self.permissions_of(asset_id)
        )

"""What applying a CMDB change needs from JumpServer, the credentials secrets and the rotation, as
protocols (the registry's and the secrets' ports are registry/ports.py and secrets/ports.py; the
JumpServer failures it acts on, jumpserver.py)."""

from __future__ import annotations

from typing import Protocol

from dbguard.cmdb.inventory import AccountSource, DatabaseAsset, DatabaseAssetFields, DatabaseCredentials
from dbguard.jumpserver import JumpServerAccount
from dbguard.registry.lease import Lease
from dbguard.registry.models import RegistryEntry
from dbguard.secrets.ports import RotationConfig


class JumpServerInventory(Protocol):
    """Database assets, their account and permission, and revoking their connection tokens."""

    def platform_id(self, name: str) -> int: ...

    def ensure_node(self, path: str) -> str:
        """The id of the node at `path` under the organisation's root, created if missing."""
        ...

    def get_database(self, asset_id: str) -> DatabaseAsset | None:
        """The asset, or None when JumpServer no longer has it."""
        ...

    def find_database(self, name: str) -> DatabaseAsset | None: ...

    def create_database(self, fields: DatabaseAssetFields) -> DatabaseAsset: ...

    def update_database(self, asset_id: str, fields: DatabaseAssetFields) -> DatabaseAsset: ...

    def deactivate_database(self, asset_id: str) -> None: ...

    def delete_database(self, asset_id: str) -> None: ...

    def require_account_fits(self, asset_id: str, name: str, source: AccountSource) -> None:
        """Reads only: RejectedChange when the asset's account `name` (a template's own name with a
        template) has another username than `source` gives, which JumpServer cannot change."""
        ...

    def ensure_account(self, asset_id: str, name: str, source: AccountSource) -> JumpServerAccount:
        """The account `name` on the asset, created or brought up to date; never duplicated."""
        ...

    def ensure_permission(self, asset_id: str, account: JumpServerAccount) -> None: ...

    def expire_connection_token(self, token_id: str) -> None:
        """Revoke the token; one already expired or unknown counts as done."""
        ...


class AccountCredentials(Protocol):
    def read(self, secret_arn: str, cmdb_id: str) -> DatabaseCredentials:
        """The credentials in the secret, if it is bound to this database; else RejectedChange."""
        ...


class SecretIssuer(Protocol):
    def rotate_under_lease(self, entry: RegistryEntry, lease: Lease) -> object:
        """A new secret for the database (its first one, or one that fits its changed asset, account
        or name), under the lease the caller holds; raises on failure."""
        ...

    def configure_rotation(self, entry: RegistryEntry, rotation: RotationConfig) -> None:
        """Let Secrets Manager rotate the database's secret with dbguard's function, if it does not."""
        ...

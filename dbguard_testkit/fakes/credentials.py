"""The database credentials secrets CMDB events reference, in memory (cmdb/ports.py
AccountCredentials), with the adapter's rules (adapters/cmdb_credentials.py): a secret is read for a
database only if its tag `dbguard:cmdb-ids` lists the database's CMDB id (space-separated); a
secret that is missing or not bound is a rejected change, never a retry."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from dbguard.adapters.cmdb_credentials import BINDING_TAG
from dbguard.cmdb.inventory import DatabaseCredentials
from dbguard.errors import RejectedChange


@dataclass
class StoredCredentials:
    credentials: DatabaseCredentials
    tags: dict[str, str]


class FakeCredentials:
    def __init__(self) -> None:
        self.secrets: dict[str, StoredCredentials] = {}  # by ARN

    def add(self, arn: str, username: str, password: str, *, bound_to: str) -> str:
        """A secret whose binding tag is `bound_to` (CMDB ids, space-separated)."""
        credentials = DatabaseCredentials(username=username, password=SecretStr(password))
        self.secrets[arn] = StoredCredentials(credentials, {BINDING_TAG: bound_to})
        return arn

    def read(self, secret_arn: str, cmdb_id: str) -> DatabaseCredentials:
        stored = self.secrets.get(secret_arn)
        if stored is None:
            raise RejectedChange(
                f"credentials secret {secret_arn} cannot be read (ResourceNotFoundException)"
            )
        if cmdb_id not in stored.tags.get(BINDING_TAG, "").split():
            raise RejectedChange(f"credentials secret {secret_arn} is not bound to {cmdb_id}")
        return stored.credentials

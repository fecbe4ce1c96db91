"""Which secret is a database's, and the rule that keeps it one database's for life.

A database's secret is created as `<SecretsPrefix>/<name>` with the tag `dbguard:cmdb-id` naming its
owner, and the registry records its ARN. It keeps that name when the database is renamed, so
applications that read it by name keep working, and it never changes hands: a secret whose tag names
another database, or that carries no such tag (made by someone else), is never written, restored or
deleted by dbguard. A database that would need such a secret is refused (SecretNotOwned) before
anything else changes.
"""

from __future__ import annotations

from collections.abc import Iterator

from dbguard.errors import SecretNotOwned
from dbguard.secrets.ports import OWNER_TAG, DatabaseSecretStore, SecretVersions


def owned_secret(
    store: DatabaseSecretStore, cmdb_id: str, recorded: str | None, name: str
) -> SecretVersions | None:
    """The database's secret: the one the registry `recorded` (its ARN, or the name it was created
    under), else the one at `<prefix>/<name>`, where a first secret is created (and one recorded but
    deleted for good is created again). None when neither exists; SecretNotOwned when the one found
    belongs to another database or to no dbguard database."""
    for secret_id in _candidates(store, recorded, name):
        versions = store.versions(secret_id)
        if versions is None:
            continue
        if versions.owner != cmdb_id:
            raise SecretNotOwned(_not_owned(versions, cmdb_id))
        return versions
    return None


def _candidates(store: DatabaseSecretStore, recorded: str | None, name: str) -> Iterator[str]:
    if recorded:
        yield recorded
    by_name = store.name_of(name)  # only when the recorded secret is gone, or none was recorded
    if by_name != recorded:
        yield by_name


def _not_owned(versions: SecretVersions, cmdb_id: str) -> str:
    if versions.owner is None:
        return (
            f"secret {versions.name} was not created by dbguard (it has no tag {OWNER_TAG}), and dbguard "
            f"never writes into a secret it does not own: give {cmdb_id} another name, or move that secret"
        )
    return (
        f"secret {versions.name} belongs to the database {versions.owner} (tag {OWNER_TAG}): a secret keeps "
        f"its name and its database for life, renamed or retired, so {cmdb_id} cannot use that name while it "
        f"exists. Give {cmdb_id} another name, or retire {versions.owner} and delete its secret for good "
        "(docs/cmdb-events.md, 'Names and secrets'), then redrive"
    )

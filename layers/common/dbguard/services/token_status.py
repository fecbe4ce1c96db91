"""Where a connection token stands: which labels of its database's secret still hold it, and whether
JumpServer still accepts it. What an operator checks after revoking a leaked token (docs/operations.md,
"A token must be revoked now"): revoked means no label holds it and JumpServer refuses it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dbguard.registry.ports import RotationRegistry
from dbguard.rotation.ports import ConnectionTokens
from dbguard.secrets.ownership import owned_secret
from dbguard.secrets.ports import CURRENT, PENDING, PREVIOUS, DatabaseSecretStore, SecretValueNotFound

if TYPE_CHECKING:  # built only for operators' invokes (cold start)
    from dbguard.rotation.on_demand import TokenCheck


class TokenStatus:
    def __init__(
        self, registry: RotationRegistry, secrets: DatabaseSecretStore, tokens: ConnectionTokens
    ) -> None:
        self._registry = registry
        self._secrets = secrets
        self._tokens = tokens

    def check(self, request: TokenCheck) -> dict[str, Any]:
        entry = self._registry.by_name(request.database)
        if entry is None:
            return {"database": request.database, "tokenId": request.token_id, "status": "not_found"}
        versions = owned_secret(self._secrets, entry.cmdb_id, entry.secret_arn, entry.name)
        labels = []
        if versions is not None:
            for label, version_id in (
                (CURRENT, versions.current),
                (PREVIOUS, versions.previous),
                (PENDING, versions.pending),
            ):
                if version_id and self._token_in(versions.arn, version_id) == request.token_id:
                    labels.append(label)
        token = self._tokens.get_connection_token(request.token_id)
        valid = token is not None and not token.is_expired
        return {
            "database": request.database,
            "tokenId": request.token_id,
            "labels": labels,
            "validInJumpServer": valid,
            "status": "revoked" if not labels and not valid else "live",
        }

    def _token_in(self, secret_arn: str, version_id: str) -> str | None:
        try:
            return self._secrets.read(secret_arn, version_id).token_id
        except SecretValueNotFound:  # a version rotate-secret labelled but not yet written
            return None

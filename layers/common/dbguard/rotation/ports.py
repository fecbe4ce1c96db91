"""What the rotation needs from JumpServer's connection tokens, as protocols."""

from __future__ import annotations

from typing import Protocol

from dbguard.jumpserver import IssuedToken, JumpServerAccount


class ConnectionTokens(Protocol):
    def create_connection_token(
        self, asset_id: str, account: JumpServerAccount, protocol: str
    ) -> IssuedToken:
        """A one-time token (it expires in 300 s unless made reusable); PermissionMissing when no
        asset permission covers the asset and account."""
        ...

    def make_token_reusable(self, token: IssuedToken) -> IssuedToken:
        """The token as JumpServer holds it after the reuse call (check it is reusable)."""
        ...

    def get_connection_token(self, token_id: str) -> IssuedToken | None:
        """The token, or None when JumpServer does not know it (expired, or not ours)."""
        ...

    def expire_connection_token(self, token_id: str) -> None:
        """Revoke the token; one that is already expired or unknown counts as done."""
        ...

    def ensure_permission(self, asset_id: str, account: JumpServerAccount) -> None:
        """Let the service user issue tokens for this asset and account."""
        ...

    def reserve(self, requests: int) -> None:
        """Wait until `requests` more requests fit the request budget: requests that other
        invocations send for this one (a rotation Secrets Manager runs)."""
        ...

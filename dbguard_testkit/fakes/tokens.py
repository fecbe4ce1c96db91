"""JumpServer's connection tokens in memory, as the rotation sees them (rotation/ports.py
ConnectionTokens): a new token is one-time (it dies 300 s after its creation), the reuse call
extends it to the reusable lifetime, an expired or unknown token is not found, and expiring one
that is already dead counts as done. Expiry follows the fake clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import SecretStr

from dbguard.errors import ServiceRefused
from dbguard.jumpserver import IssuedToken, JumpServerAccount, PermissionMissing
from dbguard_testkit.fakes.clock import FakeClock

ONE_TIME_SECONDS = 300
REUSABLE_SECONDS = 30 * 86400
REUSE_FIX = "set CONNECTION_TOKEN_REUSABLE=true"


@dataclass(frozen=True)
class FakeToken:
    id: str
    value: SecretStr
    date_expired: datetime
    is_expired: bool = False
    is_reusable: bool = False


@dataclass
class StoredToken:
    id: str
    value: str
    asset_id: str
    account_id: str
    protocol: str
    created: datetime
    expires: datetime
    is_reusable: bool = False


class UnknownToken(LookupError):
    """What JumpServer answers (404) about a token that is expired or not the caller's."""


class FakeConnectionTokens:
    def __init__(self, clock: FakeClock, reusable_seconds: int = REUSABLE_SECONDS) -> None:
        self.clock = clock
        self.reusable_seconds = reusable_seconds
        self.tokens: dict[str, StoredToken] = {}
        self.unpermitted_assets: set[str] = set()  # tokens refused until ensure_permission
        self.reuse_ignored = False  # the reuse call answers, but the token stays one-time
        self.reuse_refused = False  # the reuse call is refused: the server does not allow reusable tokens
        self.reserved = 0  # requests reserved for rotations Secrets Manager runs

    # ------------------------------------------------------------------ the port
    def create_connection_token(self, asset_id: str, account: JumpServerAccount, protocol: str) -> FakeToken:
        if asset_id in self.unpermitted_assets:
            raise PermissionMissing(f"no permission covers asset {asset_id} and account {account.name}")
        now = self.clock()
        stored = StoredToken(
            id=str(uuid.uuid4()), value=uuid.uuid4().hex[:16], asset_id=asset_id, account_id=account.id,
            protocol=protocol, created=now, expires=now + timedelta(seconds=ONE_TIME_SECONDS),
        )  # fmt: skip
        self.tokens[stored.id] = stored
        return self._issued(stored)

    def make_token_reusable(self, token: IssuedToken) -> FakeToken:
        stored = self._live(token.id)
        if stored is None:
            raise UnknownToken(f"token {token.id} is expired or unknown")
        if self.reuse_refused:  # CONNECTION_TOKEN_REUSABLE off, a stock server's default
            raise ServiceRefused("JumpServer refuses reusable connection tokens", fix=REUSE_FIX)
        if not self.reuse_ignored:
            stored.is_reusable = True
            stored.expires = stored.created + timedelta(seconds=self.reusable_seconds)
        return self._issued(stored)

    def get_connection_token(self, token_id: str) -> FakeToken | None:
        stored = self._live(token_id)
        return self._issued(stored) if stored is not None else None

    def expire_connection_token(self, token_id: str) -> None:
        stored = self._live(token_id)
        if stored is not None:
            stored.expires = self.clock()

    def ensure_permission(self, asset_id: str, account: JumpServerAccount) -> None:
        self.unpermitted_assets.discard(asset_id)

    # ------------------------------------------------------------------ for tests
    def revoke_permission(self, asset_id: str) -> None:
        """As a permission earlier dbguard versions saved (naming the account): it grants nothing."""
        self.unpermitted_assets.add(asset_id)

    def is_valid(self, token_id: str) -> bool:
        return self._live(token_id) is not None

    def live_tokens(self, asset_id: str) -> set[str]:
        now = self.clock()
        return {
            token.id for token in self.tokens.values() if token.expires > now and token.asset_id == asset_id
        }

    def _live(self, token_id: str) -> StoredToken | None:
        stored = self.tokens.get(token_id)
        return stored if stored is not None and stored.expires > self.clock() else None

    def _issued(self, stored: StoredToken) -> FakeToken:
        return FakeToken(
            id=stored.id, value=SecretStr(stored.value), date_expired=stored.expires,
            is_expired=stored.expires <= self.clock(), is_reusable=stored.is_reusable,
        )  # fmt: skip

    def reserve(self, requests: int) -> None:
        self.reserved += requests

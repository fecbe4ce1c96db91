"""JumpServer's terms as dbguard's domain uses them: the account a database's connection tokens are
issued for, an issued token, and the ways JumpServer fails a request that the services act on.

The HTTP client (adapters/jumpserver/) returns and raises these; the registry records the account;
the rotation, cmdb_sync and the secret contract pass them along. Nothing here knows HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, SecretStr

from dbguard.errors import DbguardError, Unretryable


class JumpServerAccount(BaseModel):
    """A token names the account by its name (v3) or id (v4.9+), an asset permission by its username
    (entries registered before dbguard kept it have none)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str
    name: str
    username: str | None = None


# The connect method of every token dbguard issues: "DB Guide", served by Magnus, JumpServer's DB
# proxy (apps/terminal/connect_methods.py NativeClient.db_guide, v3.10.23-v4.10.19)
DB_PROXY_CONNECT_METHOD = "db_guide"


@dataclass(frozen=True)
class DbProxyOffer:
    """Which protocols JumpServer's DB proxy accepts connection tokens for, and the two settings that
    decide it. JumpServer creates a db_guide token for any protocol without checking the connect
    method; only its connect methods (GET /api/v1/terminal/components/connect-methods/, a protocol's
    methods for the caller) say whether Magnus is there to accept it: they list db_guide for a protocol
    only when Magnus is enabled (TERMINAL_MAGNUS_ENABLED) and, on an unlicensed server
    (XPACK_LICENSE_IS_VALID false), never for PostgreSQL, Oracle or SQL Server (xpack protocols), and
    from v4.1 not at all (docs/jumpserver.md, "The DB proxy")."""

    protocols: frozenset[str]  # those whose connect methods include db_guide
    license_valid: bool | None  # XPACK_LICENSE_IS_VALID (GET /api/v1/settings/public/); None: not said
    magnus_enabled: bool | None  # TERMINAL_MAGNUS_ENABLED, the same answer


class IssuedToken(Protocol):
    """A connection token as JumpServer answered it (its value is the password applications use)."""

    @property
    def id(self) -> str: ...

    @property
    def value(self) -> SecretStr: ...

    @property
    def date_expired(self) -> datetime: ...

    @property
    def is_expired(self) -> bool: ...

    @property
    def is_reusable(self) -> bool: ...


class PermissionMissing(DbguardError):
    """No asset permission lets the service user issue tokens for this asset and account."""


class NotInJumpServer(DbguardError):
    """JumpServer has no such object (asset, account, token), or no longer."""


class AlreadyExists(Unretryable):
    """A create refused because an object of that name (or username) exists already: perhaps made by
    an earlier request whose answer was lost, so the caller looks again before giving up."""


class OutcomeUnknown(DbguardError):
    """A request that may or may not have been applied (a timeout or 5xx after it was sent): it is
    never repeated blindly; the caller looks before trying again."""

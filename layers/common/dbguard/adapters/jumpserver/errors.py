"""What can go wrong talking to JumpServer, as a small hierarchy callers can act on.

Messages carry JumpServer's `detail`/`code` and field names with their messages, never a request
body, a header or a token value.
"""

from __future__ import annotations

import re
from typing import Any

from dbguard.errors import DbguardError, ServiceRefused, Unretryable
from dbguard.jumpserver import AlreadyExists, NotInJumpServer, OutcomeUnknown, PermissionMissing


class JumpServerError(DbguardError):
    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 fields: dict[str, list[str]] | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.status = status
        self.code = code
        self.fields = fields or {}


class JumpServerAuthError(JumpServerError, ServiceRefused):
    """401/403: the credentials are wrong, or the service user lacks a role (a 401 is retried once
    with the credentials read again: they may just have been rotated)."""

    fix = (
        "check the JumpServer service user's credentials (JumpServerCredentialsSecretArn) and that it "
        "has the roles docs/jumpserver.md lists; then redrive the dead-lettered CMDB changes (rotation "
        "resumes by itself)"
    )


class JumpServerNotFound(JumpServerError, NotInJumpServer):
    """404: the object does not exist (or, for tokens, is expired or not the caller's)."""


class JumpServerRejected(JumpServerError, Unretryable):
    """400 and other refusals of the request itself: repeating it will not help."""


class JumpServerConflict(JumpServerRejected, AlreadyExists):
    """400 from a uniqueness rule ("This field must be unique.", "Account already exists", "... must
    make a unique set"): the object exists, made by someone else or by a request whose answer was lost."""


class JumpServerPermissionMissing(JumpServerRejected, PermissionMissing):
    """`perm_account_invalid`: no asset permission covers the asset, account and protocol."""


class ReusableTokensDisabled(JumpServerRejected, ServiceRefused):
    """The server's CONNECTION_TOKEN_REUSABLE is off (the stock default): an operator must enable it."""

    fix = (
        "set CONNECTION_TOKEN_REUSABLE=true in JumpServer's config.txt (or config.yml) and restart it; "
        "then redrive the dead-lettered CMDB changes (rotation resumes by itself)"
    )


class JumpServerThrottled(JumpServerError):
    """429 after the retries allowed; `retry_after` seconds is what JumpServer asked for."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, status=429, code="throttled")
        self.retry_after = retry_after


class JumpServerUnavailable(JumpServerError):
    """Unreachable, timing out or answering 5xx after the retries allowed."""


class JumpServerOutcomeUnknown(JumpServerUnavailable, OutcomeUnknown):
    """A POST that may or may not have been applied (timeout or 5xx after it was sent)."""


def error_from_response(status: int, body: Any, what: str) -> JumpServerError:
    """Map a JumpServer error response (its documented shapes) to an exception."""
    detail, code, fields = _parse(body)
    message = f"JumpServer answered HTTP {status} to {what}"
    if code:
        message += f" {code}"
    if detail:
        message += f": {detail}"
    if fields:
        message += ": " + "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
    if status in (401, 403):
        return JumpServerAuthError(message, status=status, code=code)
    if status == 404:
        return JumpServerNotFound(message, status=status, code=code)
    if code == "perm_account_invalid":
        return JumpServerPermissionMissing(message, status=status, code=code)
    if status >= 500:
        return JumpServerUnavailable(message, status=status, code=code)
    if status == 400 and _UNIQUENESS.search(message):
        return JumpServerConflict(message, status=status, code=code, fields=fields)
    return JumpServerRejected(message, status=status, code=code, fields=fields)


# DRF's and JumpServer's uniqueness messages, English (the client asks for it) at v3.10.23-v4.10.19:
# "This field must be unique." (v4.10.19: "Field must be unique"), "Account already exists...",
# "The fields ... must make a unique set."
_UNIQUENESS = re.compile(r"must be unique|already exists|unique set", re.IGNORECASE)


def _parse(body: Any) -> tuple[str | None, str | None, dict[str, list[str]]]:
    if isinstance(body, list):  # non-field errors: ["Account already exists"]
        return scrub("; ".join(str(item) for item in body)[:300]), None, {}
    if not isinstance(body, dict):
        return None, None, {}
    if "detail" in body or "code" in body or "error" in body:
        detail = body.get("detail") or body.get("error")
        return (scrub(str(detail)[:300]) if detail else None), scrub(str(body.get("code") or "")) or None, {}
    fields = {
        scrub(str(name)): [
            scrub(str(item)[:200]) for item in (messages if isinstance(messages, list) else [messages])
        ]
        for name, messages in body.items()
    }
    return None, None, fields


# A connection token's value is 16 random letters and digits; keys and private tokens are longer.
# JumpServer echoes input in some messages ("Token <value> is not valid"), so any such run is cut
# out of what reaches a log line or an error. Object ids (UUIDs, with dashes) are kept: they say
# which object, and grant nothing.
_SECRET_LIKE = re.compile(
    r"(?<![A-Za-z0-9-])(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{12,}(?![A-Za-z0-9-])"
)


def scrub(text: str) -> str:
    return _SECRET_LIKE.sub("<redacted>", text)

"""The exceptions the domain raises; handlers turn them into responses.

An error a client can cause or act on carries the HTTP status it is answered with (`http_status`,
read by dbguard.http_api and nowhere else); one without a status is not the client's doing and
fails the invocation, so API Gateway answers 5xx and the function's error alarm fires.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import ClassVar


class DbguardError(Exception):
    """Base of every error dbguard raises on purpose."""

    http_status: ClassVar[HTTPStatus | None] = None


class ConfigurationError(DbguardError):
    """The deployment is wrong (a missing or invalid setting); raised at cold start."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (a dotted/indexed path) and what."""

    field: str
    message: str


class InvalidInput(DbguardError):
    """The caller sent something unusable (well-formed, but not valid); nothing was changed."""

    http_status = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(self, summary: str, problems: list[Problem] | None = None) -> None:
        super().__init__(summary)
        self.summary = summary
        self.problems = problems or []


class MalformedInput(InvalidInput):
    """The input cannot be parsed at all (not JSON, empty, bad encoding)."""

    http_status = HTTPStatus.BAD_REQUEST


class PayloadTooLarge(InvalidInput):
    """The input is over a size or count limit."""

    http_status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class InvalidQuery(InvalidInput):
    """A query the API cannot run as asked (bad filter, inverted range, foreign cursor)."""

    http_status = HTTPStatus.BAD_REQUEST


class StorageUnavailable(DbguardError):
    """Storage is throttling or unreachable; the caller should retry after `retry_after` seconds."""

    http_status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unretryable(DbguardError):
    """Repeating the request cannot succeed: the input, a setting or another system must change first
    (a queue sends such a message to its dead-letter queue at once, with this text as the reason)."""


class NeedsOperator(Unretryable):
    """A refusal only an operator can end (a setting of JumpServer, a role of the service user, access
    to a secret): every attempt meets it until then, so it is announced with `fix` (what to change)
    and redriven after the fix (docs/operations.md)."""

    fix: str = "see the message"

    def __init__(self, message: str, *args: object, fix: str | None = None, **kwargs: object) -> None:
        super().__init__(message, *args, **kwargs)
        if fix is not None:
            self.fix = fix

    def __str__(self) -> str:  # every log line, result and dead-letter reason says what to change
        return f"{super().__str__()}; fix: {self.fix}"


class ServiceRefused(NeedsOperator):
    """Refused to dbguard itself, not to one database (a JumpServer setting, the service user's
    credentials or roles): every other database would meet it too, so a caller starts no more of
    them until the next run or redrive, and spends none of JumpServer's budget on them."""


class RejectedChange(Unretryable):
    """A CMDB change that cannot be applied as it stands: retrying will not help, a person must act."""


class NameCollision(RejectedChange):
    """The database's name is taken in JumpServer by an asset dbguard does not manage, or by another
    database dbguard manages."""


class SecretNotOwned(RejectedChange):
    """The secret a database would use belongs to another database, or was not made by dbguard: it is
    never written, restored or deleted."""


class SecretUnreadable(Unretryable):
    """A secret's value is not what dbguard stores there; the message names the fields only."""

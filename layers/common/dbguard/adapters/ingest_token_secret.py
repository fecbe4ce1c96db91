"""The ingest tokens as Secrets Manager holds them, read through Powertools' parameters cache."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters
from pydantic import ValidationError

from dbguard.audit.tokens import IngestTokens
from dbguard.errors import ConfigurationError
from dbguard.validation import describe


class IngestTokenSecret:
    def __init__(self, secret_arn: str, cache_seconds: int) -> None:
        self._secret_arn = secret_arn
        self._cache_seconds = cache_seconds
        # the list checked last and the secret it came from: the cache hands back the same object
        # until it reads the secret again, so a request does not validate the list anew
        self._checked: tuple[object, IngestTokens] | None = None

    def tokens(self, *, fresh: bool) -> IngestTokens:
        secret = parameters.get_secret(
            self._secret_arn, transform="json", max_age=self._cache_seconds, force_fetch=fresh
        )
        if self._checked is None or self._checked[0] is not secret:
            self._checked = (secret, _checked(secret))
        return self._checked[1]


def _checked(secret: object) -> IngestTokens:
    try:
        return IngestTokens.model_validate(secret)
    except ValidationError as error:
        # Refusing every request is louder (alarm) and safer than accepting a malformed token list.
        raise ConfigurationError(f"ingest token secret is malformed: {describe(error)}") from None

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

    def tokens(self, *, fresh: bool) -> IngestTokens:
        secret = parameters.get_secret(
            self._secret_arn, transform="json", max_age=self._cache_seconds, force_fetch=fresh
        )
        try:
            return IngestTokens.model_validate(secret)
        except ValidationError as error:
            # Refusing every request is louder (alarm) and safer than accepting a malformed token list.
            raise ConfigurationError(f"ingest token secret is malformed: {describe(error)}") from None

"""Ingest tokens: the shared secrets qhb_audit puts in its URL (`?token=`).

The secret holds `{"tokens": ["<token>", "<next token>"]}`; two may be valid while clients move to
a new one. The template's generated secret holds a single string under "tokens", accepted too.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

MIN_TOKEN_LENGTH = 24
MAX_TOKEN_LENGTH = 512


class IngestTokens(BaseModel):
    model_config = ConfigDict(frozen=True)

    tokens: Annotated[list[SecretStr], Field(min_length=1, max_length=4)]

    @field_validator("tokens", mode="before")
    @classmethod
    def _one_token_is_a_list_of_one(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("tokens")
    @classmethod
    def _long_enough(cls, tokens: list[SecretStr]) -> list[SecretStr]:
        for slot, token in enumerate(tokens):
            if not MIN_TOKEN_LENGTH <= len(token.get_secret_value()) <= MAX_TOKEN_LENGTH:
                raise ValueError(
                    f"token {slot} must be {MIN_TOKEN_LENGTH} to {MAX_TOKEN_LENGTH} characters long"
                )
        return tokens

    def slot_of(self, candidate: str) -> int | None:
        """Which valid token `candidate` is, compared in constant time against every token.

        Comparing digests rather than the strings keeps even the candidate's length from showing
        in the timing.
        """
        digest = _digest(candidate)
        slot = None
        for index, token in enumerate(self.tokens):
            if hmac.compare_digest(digest, _digest(token.get_secret_value())) and slot is None:
                slot = index
        return slot


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()

"""JumpServer authentication for a service: an access key (HTTP Signature) or a private token.

The credentials live in the Secrets Manager secret JUMPSERVER_CREDENTIALS_SECRET_ARN as JSON
`{"access_key_id", "access_key_secret"}` or `{"private_token"}`; they are cached and read again
when JumpServer answers 401 (a rotated key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, model_validator

from dbguard.errors import ConfigurationError

if TYPE_CHECKING:
    from requests import PreparedRequest


class JumpServerCredentials(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    access_key_id: str | None = None
    access_key_secret: SecretStr | None = None
    private_token: SecretStr | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> JumpServerCredentials:
        if not (self.access_key_id and self.access_key_secret) and not self.private_token:
            raise ValueError("needs access_key_id and access_key_secret, or private_token")
        return self

    def auth(self) -> Callable[[PreparedRequest], PreparedRequest]:
        if self.access_key_id and self.access_key_secret:
            return _SignatureAuth(self.access_key_id, self.access_key_secret)
        assert self.private_token is not None  # _one_kind: one or the other
        return _TokenAuth(self.private_token)


# requests takes any callable as auth: not subclassing its AuthBase keeps requests out of this
# module's import (cold start); the first JumpServer call imports it (dbguard.adapters.jumpserver.transport)
class _TokenAuth:
    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Token {self._token.get_secret_value()}"
        return request


class _SignatureAuth:
    """HTTP Signature over `(request-target) accept date`, hmac-sha256 (JumpServer's access keys)."""

    def __init__(self, key_id: str, secret: SecretStr) -> None:
        self._key_id = key_id
        self._secret = secret

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Date"] = formatdate(usegmt=True)
        split = urlsplit(str(request.url))  # set once the request is prepared
        target = split.path + (f"?{split.query}" if split.query else "")
        signed = "\n".join(
            [
                f"(request-target): {str(request.method).lower()} {target}",
                f"accept: {request.headers.get('Accept', '')}",
                f"date: {request.headers['Date']}",
            ]
        )
        digest = hmac.new(self._secret.get_secret_value().encode(), signed.encode(), hashlib.sha256).digest()
        request.headers["Authorization"] = (
            f'Signature keyId="{self._key_id}",algorithm="hmac-sha256",'
            f'headers="(request-target) accept date",signature="{base64.b64encode(digest).decode()}"'
        )
        return request


class CredentialsSource:
    def __init__(self, secretsmanager: Any, secret_arn: str, cache_seconds: int) -> None:
        self._client = secretsmanager
        self._secret_arn = secret_arn
        self._cache_seconds = cache_seconds
        self._cached: tuple[float, JumpServerCredentials] | None = None
        self._lock = threading.Lock()

    def get(self, refresh: bool = False) -> JumpServerCredentials:
        with self._lock:
            now = time.monotonic()
            if refresh or self._cached is None or now - self._cached[0] > self._cache_seconds:
                self._cached = (now, self._read())
            return self._cached[1]

    def _read(self) -> JumpServerCredentials:
        text = self._client.get_secret_value(SecretId=self._secret_arn).get("SecretString") or ""
        try:
            return JumpServerCredentials.model_validate_json(text)
        except ValidationError:
            raise ConfigurationError(
                f"JumpServer credentials secret {self._secret_arn} must be JSON with access_key_id and "
                "access_key_secret, or private_token (docs/jumpserver.md)"
            ) from None

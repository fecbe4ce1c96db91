"""The JumpServer client of cmdb_sync and token_rotation, built from their JumpServer settings."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, Json, model_validator

from dbguard.adapters.jumpserver.auth import CredentialsSource
from dbguard.adapters.jumpserver.client import JumpServerClient
from dbguard.adapters.jumpserver.transport import RequestBudget, Transport
from dbguard.composition.settings import EnvSettings


class JumpServerSettings(EnvSettings):
    """The JumpServer client of cmdb_sync and token_rotation."""

    jumpserver_url: str = Field(pattern=r"^https?://[^\s/]+(/.*)?$", alias="JUMPSERVER_URL")
    jumpserver_credentials_secret_arn: str = Field(alias="JUMPSERVER_CREDENTIALS_SECRET_ARN")
    jumpserver_org_id: str = Field(default="00000000-0000-0000-0000-000000000002", alias="JUMPSERVER_ORG_ID")
    jumpserver_version: Literal["auto", "v3", "v4"] = Field(default="auto", alias="JUMPSERVER_VERSION")
    jumpserver_timeout_seconds: float = Field(default=5.0, gt=0, le=60, alias="JUMPSERVER_TIMEOUT_SECONDS")
    jumpserver_max_retries: int = Field(default=3, ge=0, le=10, alias="JUMPSERVER_MAX_RETRIES")
    jumpserver_platform_ids: Json[dict[str, int]] = Field(
        default_factory=dict, alias="JUMPSERVER_PLATFORM_IDS"
    )
    jumpserver_use_admin_tokens: bool = Field(default=False, alias="JUMPSERVER_USE_ADMIN_TOKENS")
    # plain http would carry the service user's key or token and every connection token in clear
    allow_insecure_jumpserver: bool = Field(default=False, alias="ALLOW_INSECURE_JUMPSERVER")
    # v4.10.15-16 throttle one user to 180 requests a minute, shared by cmdb_sync and token_rotation
    jumpserver_requests_per_minute: int = Field(
        default=80, ge=0, le=100_000, alias="JUMPSERVER_REQUESTS_PER_MINUTE"
    )
    jumpserver_credentials_cache_seconds: int = Field(
        default=300, ge=0, le=3600, alias="JUMPSERVER_CREDENTIALS_CACHE_SECONDS"
    )

    @model_validator(mode="after")
    def _jumpserver_over_tls(self) -> Self:
        url = urlsplit(self.jumpserver_url)
        # loopback: local development and tests
        if (
            url.scheme == "http"
            and not self.allow_insecure_jumpserver
            and not _is_loopback(url.hostname or "")
        ):
            raise ValueError(
                "JUMPSERVER_URL uses http://: the service user's credentials and every connection "
                "token would cross the network in clear. Use https://, or set AllowInsecureJumpServer=true"
            )
        return self


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_jumpserver(
    settings: JumpServerSettings, secretsmanager: Any, *, max_in_flight: int | None = None
) -> JumpServerClient:
    """`max_in_flight`: most requests at once, for a caller that sends from many threads."""
    credentials = CredentialsSource(
        secretsmanager,
        settings.jumpserver_credentials_secret_arn,
        settings.jumpserver_credentials_cache_seconds,
    )
    rate = settings.jumpserver_requests_per_minute
    transport = Transport(
        settings.jumpserver_url,
        credentials,
        org_id=settings.jumpserver_org_id,
        timeout_seconds=settings.jumpserver_timeout_seconds,
        max_retries=settings.jumpserver_max_retries,
        budget=RequestBudget(rate) if rate else None,  # 0: unpaced
        max_in_flight=max_in_flight,
    )
    return JumpServerClient(
        transport,
        version=settings.jumpserver_version,
        platform_ids=settings.jumpserver_platform_ids,
        use_admin_tokens=settings.jumpserver_use_admin_tokens,
    )

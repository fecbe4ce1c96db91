"""The one typed settings object, read from the environment the template gives each function.

Every field is optional at the type level because each function needs a different subset; a
function names what it needs in `Settings.from_env(...)` and fails at cold start, with the names of
the missing variables, when the template forgot one. Environment variable names are the aliases.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, Json, ValidationError, model_validator

from dbguard.engines import DEFAULT_ENGINES, EngineProfile
from dbguard.errors import ConfigurationError
from dbguard.validation import CidrList, CommaList, describe


class EnvSettings(BaseModel):
    """Base of every function's settings class: fields are read from the environment by alias.

    Plain pydantic rather than pydantic-settings: the latter adds ~60 ms to every cold start
    (measured with `python -X importtime`) for features the template never uses (dotenv files,
    secrets directories, nested delimiters). Powertools' parameters utility reads SSM and Secrets
    Manager, not the environment the template sets. A required field has no default, so a missing
    variable fails at init with its name.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read and check the environment (an empty variable counts as unset)."""
        values = {key: value for key, value in (os.environ if environ is None else environ).items() if value}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise ConfigurationError(f"{cls.__name__}: invalid or missing: {describe(error)}") from None


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    # --- audit ingest / authorizer / query
    audit_table_name: str | None = Field(default=None, alias="AUDIT_TABLE_NAME")
    audit_retention_days: int = Field(default=365, ge=0, le=36500, alias="AUDIT_RETENTION_DAYS")
    max_request_bytes: int = Field(
        default=1_048_576, ge=1024, le=6_000_000, alias="MAX_REQUEST_BYTES"
    )  # Lambda's synchronous payload limit is 6 MB
    ingest_retry_after_seconds: int = Field(default=5, ge=1, le=3600, alias="INGEST_RETRY_AFTER_SECONDS")
    ingest_token_secret_arn: str | None = Field(default=None, alias="INGEST_TOKEN_SECRET_ARN")
    query_cursor_secret_arn: str | None = Field(default=None, alias="QUERY_CURSOR_SECRET_ARN")
    ingest_token_cache_seconds: int = Field(default=60, ge=0, le=3600, alias="INGEST_TOKEN_CACHE_SECONDS")
    # direct connections (audit ingest): the template's CommaDelimitedLists, joined with commas
    jumpserver_proxy_cidrs: CidrList = Field(default=(), alias="JUMPSERVER_PROXY_CIDRS")
    direct_connection_exempt_logins: CommaList = Field(default=(), alias="DIRECT_CONNECTION_EXEMPT_LOGINS")
    connection_event_names: CommaList = Field(default=(), alias="CONNECTION_EVENT_NAMES")
    direct_connection_dead_letter_queue_url: str | None = Field(
        default=None, alias="DIRECT_CONNECTION_DEAD_LETTER_QUEUE_URL"
    )

    # --- JumpServer client (cmdb_sync, token_rotation)
    jumpserver_url: str | None = Field(
        default=None, pattern=r"^https?://[^\s/]+(/.*)?$", alias="JUMPSERVER_URL"
    )
    jumpserver_credentials_secret_arn: str | None = Field(
        default=None, alias="JUMPSERVER_CREDENTIALS_SECRET_ARN"
    )
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

    # --- registry of managed databases and their secrets (cmdb_sync, token_rotation)
    registry_table_name: str | None = Field(default=None, alias="REGISTRY_TABLE_NAME")
    secrets_prefix: str = Field(
        default="dbguard/db", pattern=r"^[A-Za-z0-9/_+=.@-]{1,200}$", alias="SECRETS_PREFIX"
    )
    jumpserver_proxy_host: str | None = Field(default=None, alias="JUMPSERVER_PROXY_HOST")
    jumpserver_proxy_port: int | None = Field(default=None, ge=1, le=65535, alias="JUMPSERVER_PROXY_PORT")

    # --- token rotation
    rotation_schedule: str = Field(default="rate(1 hour)", alias="ROTATION_SCHEDULE")
    rotation_window_seconds: int = Field(default=7 * 86400, ge=60, alias="ROTATION_WINDOW_SECONDS")
    token_lifetime_seconds: int = Field(default=30 * 86400, ge=300, alias="JUMPSERVER_TOKEN_LIFETIME_SECONDS")
    # the AWS caching clients docs/applications.md recommends keep a secret for an hour by default
    consumer_cache_seconds: int = Field(default=3600, ge=0, le=86400, alias="CONSUMER_CACHE_SECONDS")
    rotation_concurrency: int = Field(default=8, ge=1, le=64, alias="ROTATION_CONCURRENCY")
    rotation_deadline_margin_seconds: int = Field(
        default=30, ge=5, le=600, alias="ROTATION_DEADLINE_MARGIN_SECONDS"
    )
    # at least the longest timeout of the functions that take the lease (the template sets it to the
    # rotation's timeout; cmdb_sync's is shorter), so a running holder never loses it
    rotation_lease_seconds: int = Field(default=900, ge=60, le=900, alias="ROTATION_LEASE_SECONDS")

    # --- CMDB registration (cmdb_sync)
    engine_map: Json[dict[str, EngineProfile]] = Field(default_factory=dict, alias="ENGINE_MAP")
    node_path_template: str = Field(
        default="dbguard/{environment}",
        pattern=r"^[^{}]*(\{environment\}[^{}]*)*$",
        alias="NODE_PATH_TEMPLATE",
    )
    account_name: str = Field(
        default="dbguard", min_length=1, max_length=128, alias="JUMPSERVER_ACCOUNT_NAME"
    )
    account_template_id: str | None = Field(default=None, alias="JUMPSERVER_ACCOUNT_TEMPLATE_ID")
    hard_delete_assets: bool = Field(default=False, alias="HARD_DELETE_ASSETS")
    secret_recovery_window_days: int = Field(default=30, ge=7, le=30, alias="SECRET_RECOVERY_WINDOW_DAYS")
    cmdb_dead_letter_queue_url: str | None = Field(default=None, alias="CMDB_DEAD_LETTER_QUEUE_URL")
    cmdb_max_event_bytes: int = Field(default=65_536, ge=1024, le=262_144, alias="CMDB_MAX_EVENT_BYTES")

    @model_validator(mode="after")
    def _jumpserver_over_tls(self) -> Self:
        url = urlsplit(self.jumpserver_url or "")
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

    @property
    def engines(self) -> dict[str, EngineProfile]:
        """The built-in engine map with the operator's ENGINE_MAP merged over it."""
        return {**DEFAULT_ENGINES, **{name.lower(): profile for name, profile in self.engine_map.items()}}

    @classmethod
    def from_env(cls, *required: str, environ: Mapping[str, str] | None = None) -> Self:
        """Read the environment; `required` are field names that must be set for this function."""
        values = {key: value for key, value in (os.environ if environ is None else environ).items() if value}
        try:
            settings = cls.model_validate(values)
        except ValidationError as error:
            raise ConfigurationError(f"invalid settings: {describe(error)}") from None
        missing = [cls.model_fields[name].alias for name in required if getattr(settings, name) is None]
        if missing:
            raise ConfigurationError(f"missing required environment variables: {', '.join(missing)}")
        return settings


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

"""audit_authorizer's object graph, built once per cold start from its settings."""

from __future__ import annotations

from pydantic import Field

from dbguard.adapters.ingest_token_secret import IngestTokenSecret
from dbguard.audit.token_check import IngestTokenCheck
from dbguard.composition.settings import EnvSettings
from dbguard.snapstart import register_restore_hooks


class AuditAuthorizerSettings(EnvSettings):
    ingest_token_secret_arn: str = Field(alias="INGEST_TOKEN_SECRET_ARN")
    ingest_token_cache_seconds: int = Field(default=60, ge=0, le=3600, alias="INGEST_TOKEN_CACHE_SECONDS")


def compose() -> IngestTokenCheck:
    register_restore_hooks()  # what environments restored from one SnapStart snapshot would share
    settings = AuditAuthorizerSettings.load()
    return IngestTokenCheck(
        IngestTokenSecret(settings.ingest_token_secret_arn, settings.ingest_token_cache_seconds)
    )

"""The settings audit_ingest and audit_query share: the audit table and how a throttled client is
told to come back."""

from __future__ import annotations

from pydantic import Field

from dbguard.composition.settings import EnvSettings


class AuditTableSettings(EnvSettings):
    audit_table_name: str = Field(alias="AUDIT_TABLE_NAME")
    # Retry-After of the 503 answered when DynamoDB throttles or cannot be reached (the template sets
    # it for ingest only, where qhb_audit's retries matter; the query keeps the default)
    ingest_retry_after_seconds: int = Field(default=5, ge=1, le=3600, alias="INGEST_RETRY_AFTER_SECONDS")

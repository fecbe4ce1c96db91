"""audit_query's object graph, built once per cold start from its settings."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from dbguard.adapters.audit_reader import AuditReader
from dbguard.adapters.cursor_key import CursorKeySecret
from dbguard.composition.audit_settings import AuditTableSettings
from dbguard.services.audit_query import AuditSearch
from dbguard.snapstart import register_restore_hooks


class AuditQuerySettings(AuditTableSettings):
    query_cursor_secret_arn: str = Field(alias="QUERY_CURSOR_SECRET_ARN")


def compose(environ: Mapping[str, str] | None = None) -> AuditSearch:
    """The function's graph from its environment (`environ`: another one, for the benchmark)."""
    register_restore_hooks()  # what environments restored from one SnapStart snapshot would share
    settings = AuditQuerySettings.load(environ)
    reader = AuditReader.create(settings.audit_table_name, settings.ingest_retry_after_seconds)
    return AuditSearch(reader, CursorKeySecret(settings.query_cursor_secret_arn))

"""audit_query's object graph, built once per cold start from its settings."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from dbguard.adapters import aws
from dbguard.adapters.audit_reader import AuditReader
from dbguard.audit.cursor import CursorCodec
from dbguard.audit.query import AuditSearch
from dbguard.composition.audit_settings import AuditTableSettings
from dbguard.snapstart import register_restore_hooks


class AuditQuerySettings(AuditTableSettings):
    query_cursor_secret_arn: str = Field(alias="QUERY_CURSOR_SECRET_ARN")


def compose() -> AuditSearch:
    register_restore_hooks()  # what environments restored from one SnapStart snapshot would share
    settings = AuditQuerySettings.load()

    @cache  # on the first cursor, once per container: Powertools' parameters utility costs ~80 ms of init
    def codec() -> CursorCodec:
        secret = aws.client("secretsmanager").get_secret_value(SecretId=settings.query_cursor_secret_arn)
        return CursorCodec(secret["SecretString"].encode())

    reader = AuditReader.create(settings.audit_table_name, settings.ingest_retry_after_seconds)
    return AuditSearch(reader, codec)

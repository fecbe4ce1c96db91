"""audit_digest's object graph, built once per cold start from its settings."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from dbguard.adapters.digest_bucket import S3DigestBucket
from dbguard.adapters.kms_signer import KmsSigner
from dbguard.adapters.stored_hours import StoredHourReader
from dbguard.composition.settings import EnvSettings
from dbguard.services.audit_digest import DigestWriter
from dbguard.snapstart import register_restore_hooks


class AuditDigestSettings(EnvSettings):
    audit_table_name: str = Field(alias="AUDIT_TABLE_NAME")
    digest_bucket_name: str = Field(alias="DIGEST_BUCKET_NAME")
    digest_key_id: str = Field(alias="DIGEST_KEY_ID")  # the signing key's ARN: what verifiers name
    # how long after an hour ends its digest waits: longer than a write's attempts (about 25 s) plus
    # byStoredHour's propagation (normally under a second), so no event stored in the hour is missed
    digest_margin_seconds: int = Field(default=300, ge=60, le=3000, alias="DIGEST_MARGIN_SECONDS")


def compose(environ: Mapping[str, str] | None = None) -> DigestWriter:
    register_restore_hooks()  # what environments restored from one SnapStart snapshot would share
    settings = AuditDigestSettings.load(environ)
    return DigestWriter(
        hours=StoredHourReader.create_for(settings.audit_table_name),
        bucket=S3DigestBucket.create_for(settings.digest_bucket_name),
        signer=KmsSigner.create_for(settings.digest_key_id),
        table=settings.audit_table_name,
        margin_seconds=settings.digest_margin_seconds,
    )

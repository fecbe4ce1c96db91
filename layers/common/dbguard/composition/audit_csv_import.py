"""audit_csv_import's object graph, built once per cold start from its settings: the same Ingest as
audit_ingest (table, direct-connection rule, retention, last seen per source), S3, the imports table
and the import's own queue for continuations."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pydantic import Field

from dbguard.adapters.csv_continuations import QueuedContinuations
from dbguard.adapters.csv_imports_store import CsvImportsStore
from dbguard.adapters.s3_objects import S3CsvObjects
from dbguard.audit.ports import SourceActivity
from dbguard.composition.audit_ingest import AuditIngestSettings, build_ingest
from dbguard.services.audit_csv_import import CsvImport, CsvImportQueue
from dbguard.snapstart import register_restore_hooks


class AuditCsvImportSettings(AuditIngestSettings):
    csv_imports_table_name: str = Field(alias="CSV_IMPORTS_TABLE_NAME")
    audit_csv_prefix: str = Field(default="qhb-audit/", max_length=512, alias="AUDIT_CSV_PREFIX")
    audit_csv_queue_url: str = Field(alias="AUDIT_CSV_QUEUE_URL")


@dataclass(frozen=True)
class AuditCsvImport:
    queue: CsvImportQueue
    sources: SourceActivity  # flushed after every invocation: an import is never a hot path


def compose() -> AuditCsvImport:
    register_restore_hooks()
    settings = AuditCsvImportSettings.load()
    ingest = build_ingest(settings)
    importer = CsvImport(
        ingest,
        S3CsvObjects.create(),
        CsvImportsStore.create(settings.csv_imports_table_name),
        settings.audit_csv_prefix,
        clock_ms=lambda: time.time_ns() // 1_000_000,
    )
    queue = CsvImportQueue(importer, QueuedContinuations.create(settings.audit_csv_queue_url))
    return AuditCsvImport(queue=queue, sources=ingest.sources)

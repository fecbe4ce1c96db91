"""audit_sources' object graph, built once per cold start from its settings: the last-seen table,
the silence rule and the default event bus."""

from __future__ import annotations

import time

from pydantic import Field

from dbguard.adapters.event_bus import DefaultEventBus
from dbguard.adapters.source_ledger import SourceLedgerTable
from dbguard.audit.sources import SilenceRule
from dbguard.composition.settings import EnvSettings
from dbguard.services.audit_sources import AuditSources
from dbguard.snapstart import register_restore_hooks
from dbguard.validation import CommaList


class AuditSourcesSettings(EnvSettings):
    audit_sources_table_name: str = Field(alias="AUDIT_SOURCES_TABLE_NAME")
    source_silence_minutes: int = Field(default=60, ge=1, le=10_080, alias="SOURCE_SILENCE_MINUTES")
    source_active_days: int = Field(default=7, ge=1, le=366, alias="SOURCE_ACTIVE_DAYS")
    expected_sources: CommaList = Field(default=(), alias="EXPECTED_SOURCES")


def compose() -> AuditSources:
    register_restore_hooks()
    settings = AuditSourcesSettings.load()
    return AuditSources(
        SourceLedgerTable.create(settings.audit_sources_table_name),
        SilenceRule.of(
            settings.source_silence_minutes, settings.source_active_days, settings.expected_sources
        ),
        DefaultEventBus(),
        clock_ms=lambda: time.time_ns() // 1_000_000,
    )

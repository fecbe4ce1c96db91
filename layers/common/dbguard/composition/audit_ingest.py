"""audit_ingest's object graph, built once per cold start from its settings."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from dbguard.adapters.announcer import EventBridgeAnnouncer
from dbguard.adapters.audit_store import AuditStore
from dbguard.adapters.source_ledger import SourceLedgerTable
from dbguard.audit.direct import DirectConnectionRules
from dbguard.audit.ports import NoSourceActivity
from dbguard.composition.audit_settings import AuditTableSettings
from dbguard.services.audit_ingest import Ingest
from dbguard.snapstart import register_restore_hooks
from dbguard.validation import CidrList, CommaList


class AuditIngestSettings(AuditTableSettings):
    audit_retention_days: int = Field(default=365, ge=0, le=36500, alias="AUDIT_RETENTION_DAYS")
    max_request_bytes: int = Field(
        default=1_048_576, ge=1024, le=6_000_000, alias="MAX_REQUEST_BYTES"
    )  # Lambda's synchronous payload limit is 6 MB
    # direct connections: the template's CommaDelimitedLists, joined with commas
    jumpserver_proxy_cidrs: CidrList = Field(default=(), alias="JUMPSERVER_PROXY_CIDRS")
    direct_connection_exempt_logins: CommaList = Field(default=(), alias="DIRECT_CONNECTION_EXEMPT_LOGINS")
    connection_event_names: CommaList = Field(default=(), alias="CONNECTION_EVENT_NAMES")
    direct_connection_dead_letter_queue_url: str = Field(alias="DIRECT_CONNECTION_DEAD_LETTER_QUEUE_URL")
    # last seen per source (silent sources); empty: not tracked
    audit_sources_table_name: str = Field(default="", alias="AUDIT_SOURCES_TABLE_NAME")


@dataclass(frozen=True)
class AuditIngest:
    max_request_bytes: int
    ingest: Ingest


def compose() -> AuditIngest:
    register_restore_hooks()  # what environments restored from one SnapStart snapshot would share
    settings = AuditIngestSettings.load()
    return AuditIngest(max_request_bytes=settings.max_request_bytes, ingest=build_ingest(settings))


def build_ingest(settings: AuditIngestSettings) -> Ingest:
    """The storing of audit events, the same for every way they arrive (REST, CSV files)."""
    return Ingest(
        writer=AuditStore.create(settings.audit_table_name, settings.ingest_retry_after_seconds),
        announcer=EventBridgeAnnouncer.create(settings.direct_connection_dead_letter_queue_url),
        rules=DirectConnectionRules.of(
            proxy_networks=settings.jumpserver_proxy_cidrs,
            exempt_logins=settings.direct_connection_exempt_logins,
            connection_names=settings.connection_event_names,
        ),
        retention_days=settings.audit_retention_days,
        sources=SourceLedgerTable.create(settings.audit_sources_table_name)
        if settings.audit_sources_table_name
        else NoSourceActivity(),
    )

"""Every metric dbguard emits, defined once: its name, unit, the function that emits it and what one
data point counts. Emitters go through `observability.emit(METRIC, value)`; template.yaml's alarms and
dashboard name these metrics in the namespace `POWERTOOLS_METRICS_NAMESPACE` with the dimension
`service` (the function's name). tests/unit/test_metric_catalogue.py fails when the template names a
metric of that namespace the catalogue does not hold, when a catalogue metric is emitted nowhere, or
when the dashboard does not show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["Count", "Milliseconds", "Seconds", "Bytes"]


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    services: tuple[str, ...]  # the emitting functions (the metric's `service` dimension)
    meaning: str


# audit_authorizer
INGEST_TOKEN_MISSING = Metric(
    "IngestTokenMissing", "Count", ("audit_authorizer",), "ingest requests without ?token="
)
INGEST_TOKEN_REJECTED = Metric(
    "IngestTokenRejected", "Count", ("audit_authorizer",), "ingest requests with a wrong token"
)
# audit_ingest
EVENTS_STORED = Metric("EventsStored", "Count", ("audit_ingest",), "audit events written")
EVENTS_DUPLICATE = Metric(
    "EventsDuplicate", "Count", ("audit_ingest",), "audit events already stored (retries)"
)
DIRECT_CONNECTIONS = Metric(
    "DirectConnections", "Count", ("audit_ingest",), "connections that bypassed the JumpServer DB proxy"
)
DIRECT_CONNECTIONS_DEAD_LETTERED = Metric(
    "DirectConnectionsDeadLettered",
    "Count",
    ("audit_ingest",),
    "announcements EventBridge refused, kept in the DLQ",
)
DIRECT_CONNECTIONS_UNANNOUNCED = Metric(
    "DirectConnectionsUnannounced",
    "Count",
    ("audit_ingest",),
    "announcements lost to EventBridge and SQS alike",
)
HTTP_FUNCTIONS = ("audit_ingest", "audit_query")
STORAGE_THROTTLED = Metric(
    "StorageThrottled", "Count", HTTP_FUNCTIONS, "requests answered 503 (DynamoDB busy)"
)
REQUESTS_REJECTED = Metric(
    "RequestsRejected", "Count", (*HTTP_FUNCTIONS, "rotation_status"), "requests answered 4xx (bad input)"
)
# audit_query
QUERY_EVENTS_RETURNED = Metric(
    "QueryEventsReturned", "Count", ("audit_query",), "events answered to auditors"
)
QUERY_INDEX_ITEMS_READ = Metric("QueryIndexItemsRead", "Count", ("audit_query",), "index items read for them")
# audit_csv_import
CSV_ROWS_IMPORTED = Metric(
    "CsvRowsImported", "Count", ("audit_csv_import",), "CSV rows stored as audit events"
)
CSV_ROWS_DUPLICATE = Metric(
    "CsvRowsDuplicate", "Count", ("audit_csv_import",), "CSV rows read again and found stored (no write)"
)
CSV_ROWS_REFUSED = Metric(
    "CsvRowsRefused", "Count", ("audit_csv_import",), "CSV rows quarantined (they break the format)"
)
CSV_FILES_REFUSED = Metric(
    "CsvFilesRefused", "Count", ("audit_csv_import",), "objects refused whole (not a qhb_audit CSV file)"
)
# audit_sources
SILENT_SOURCES = Metric(
    "SilentSources", "Count", ("audit_sources",), "after a check, sources silent past SourceSilenceMinutes"
)
# cmdb_sync
DATABASES_REGISTERED = Metric("DatabasesRegistered", "Count", ("cmdb_sync",), "databases registered")
DATABASES_UPDATED = Metric("DatabasesUpdated", "Count", ("cmdb_sync",), "registered databases changed")
DATABASES_RETIRED = Metric("DatabasesRetired", "Count", ("cmdb_sync",), "databases retired")
CHANGES_IGNORED_STALE = Metric(
    "ChangesIgnoredStale", "Count", ("cmdb_sync",), "changes older than the applied one"
)
CHANGES_REJECTED = Metric(
    "ChangesRejected", "Count", ("cmdb_sync",), "changes dead-lettered at once (a person must act)"
)
CHANGES_FAILED = Metric("ChangesFailed", "Count", ("cmdb_sync",), "changes failed, left to SQS's retries")
CHANGES_DEFERRED = Metric("ChangesDeferred", "Count", ("cmdb_sync",), "changes not started near the timeout")
# cmdb_sync and token_rotation
JUMPSERVER_FUNCTIONS = ("cmdb_sync", "token_rotation")
JUMPSERVER_REQUESTS = Metric(
    "JumpServerRequests", "Count", JUMPSERVER_FUNCTIONS, "requests sent to JumpServer, retries included"
)
JUMPSERVER_BUSIEST_MINUTE = Metric(
    "JumpServerBusiestMinute",
    "Count",
    JUMPSERVER_FUNCTIONS,
    "an invocation's most JumpServer requests in any 60 s (against JumpServerRequestsPerMinute)",
)
# token_rotation
TOKENS_ROTATED = Metric("TokensRotated", "Count", ("token_rotation",), "databases given a new token")
ROTATION_FAILED = Metric("RotationFailed", "Count", ("token_rotation",), "rotations that failed")
ROTATION_SKIPPED = Metric("RotationSkipped", "Count", ("token_rotation",), "active databases not due")
ROTATION_DEFERRED = Metric(
    "RotationDeferred", "Count", ("token_rotation",), "due databases left to the next run"
)
TOKENS_EXPIRED = Metric("TokensExpired", "Count", ("token_rotation",), "old tokens expired in JumpServer")
TOKEN_SECONDS_LEFT = Metric(
    "TokenSecondsLeft",
    "Seconds",
    ("token_rotation",),
    "after a scheduled run, seconds left on the token closest to expiry (negative: expired)",
)
ROTATION_RUN_DURATION = Metric(
    "RotationRunDuration", "Milliseconds", ("token_rotation",), "one run, start to end"
)

# audit_digest
DIGESTS_WRITTEN = Metric("DigestsWritten", "Count", ("audit_digest",), "hourly audit digests written")
DIGEST_EVENTS = Metric("DigestEvents", "Count", ("audit_digest",), "events covered by the digests written")
DIGEST_KEY_UNUSABLE = Metric(
    "DigestKeyUnusable", "Count", ("audit_digest",), "1 while the signing key is pending deletion or disabled"
)
DIGEST_HOURS_BEHIND = Metric(
    "DigestHoursBehind",
    "Count",
    ("audit_digest",),
    "closed hours left to the next run",
)


def catalogue() -> list[Metric]:
    """Every metric above, in the order they are defined."""
    return [value for value in globals().values() if isinstance(value, Metric)]

"""Tamper-evident audit trail: hourly signed digests of the audit table (docs/audit-digests.md)."""

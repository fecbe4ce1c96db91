"""Events an operator can route (EventBridge rules on the account's default bus): when a database's
rotation fails and when it recovers, when a CMDB change cannot be applied, and when an audit source
falls silent and when it resumes. Each is published once per change of state, not once per retry."""

from __future__ import annotations

from typing import Any, Protocol

ROTATION_SOURCE = "dbguard.rotation"
CMDB_SOURCE = "dbguard.cmdb"
AUDIT_SOURCE = "dbguard.audit"
ROTATION_FAILED_DETAIL_TYPE = "Rotation Failed"
ROTATION_RECOVERED_DETAIL_TYPE = "Rotation Recovered"
REGISTRATION_FAILED_DETAIL_TYPE = "Database Registration Failed"
SOURCE_SILENT_DETAIL_TYPE = "Audit Source Silent"
SOURCE_RESUMED_DETAIL_TYPE = "Audit Source Resumed"


class OperatorEvents(Protocol):
    def publish(self, source: str, detail_type: str, detail: dict[str, Any]) -> None:
        """Best effort: an event that cannot be delivered is logged, never raised."""
        ...


class NoEvents:
    """Publishes nothing (where no operator listens: unit tests of other rules)."""

    def publish(self, source: str, detail_type: str, detail: dict[str, Any]) -> None:
        return None

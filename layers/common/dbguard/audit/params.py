"""Well-known facts hidden in an event's `params`.

QHB does not publish its parameter names, so each fact is recognised by a set of plausible names,
compared after lower-casing and dropping everything but letters and digits ("Database Name",
"database_name" and "databaseName" are the same). docs/audit-storage.md lists them; extend the sets
here when a QHB release shows its real names.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # audit_query stores no events: it need not build the event models
    from dbguard.audit.models import AuditParam

DATABASE_PARAM_NAMES = frozenset({"database", "databasename", "db", "dbname", "datname"})
SUCCESS_PARAM_NAMES = frozenset({"success", "succeeded", "ok", "result"})
# How a connection attempt's outcome may be spelled; anything else is "not known" (None).
_SUCCEEDED = frozenset({"true", "t", "yes", "y", "1", "ok", "success", "succeeded"})
_FAILED = frozenset({"false", "f", "no", "n", "0", "fail", "failed", "failure", "error", "denied"})

_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def normalized_param_name(name: str) -> str:
    return _NOT_ALNUM.sub("", name.lower())


def first_param(params: list[AuditParam], names: frozenset[str]) -> str | None:
    for param in params:
        if param.value and normalized_param_name(param.name) in names:
            return param.value
    return None


def succeeded(params: list[AuditParam]) -> bool | None:
    """Whether the event reports success (a connection attempt's outcome); None when it does not say."""
    value = first_param(params, SUCCESS_PARAM_NAMES)
    outcome = value.strip().lower() if value else ""
    return True if outcome in _SUCCEEDED else False if outcome in _FAILED else None

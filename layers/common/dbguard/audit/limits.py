"""The bounds of a qhb_audit request and event, apart from the models that enforce most of them, so
the read side (audit_query) uses them without building the ingest models. They keep one event well
inside DynamoDB's 400 KB item limit.
"""

from __future__ import annotations

MAX_EVENTS_PER_REQUEST = 100
MAX_EVENT_BYTES = 128 * 1024  # canonical JSON of one event
MAX_TAGS = 64
MAX_PARAMS = 256
MAX_PARAM_VALUE_CHARS = 64 * 1024  # a parameter may carry a DDL statement's text
LATEST_DATETIME_MS = 9_999_999_999_999  # 13 digits: the sort keys zero-pad to this width
# Unknown fields are kept and returned as received: bounded so that no reader (dbguard's, the
# auditors' tools) has to recurse without limit or hold an arbitrarily large opaque blob.
MAX_NESTING_DEPTH = 32  # levels of objects/arrays in one event, the event object being level 1
MAX_UNKNOWN_FIELDS_BYTES = 32 * 1024  # one event's unknown fields together, as canonical JSON

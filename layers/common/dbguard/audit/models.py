"""qhb_audit's event, as its manual documents it (field names exactly as QHB sends them).

QHB does not publish its event and parameter names, and a newer QHB may add fields: unknown fields
are allowed and kept. Bounds keep one event well inside DynamoDB's 400 KB item limit.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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

ShortText = Annotated[str, StringConstraints(max_length=256)]


class AuditParam(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)

    name: ShortText = Field(alias="Name")
    value: Annotated[str, StringConstraints(max_length=MAX_PARAM_VALUE_CHARS)] = Field(alias="Value")


class AuditEvent(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)

    tags: Annotated[list[ShortText], Field(max_length=MAX_TAGS)]
    datetime_ms: int = Field(alias="Datetime", ge=0, le=LATEST_DATETIME_MS)
    service_name: ShortText = Field(alias="serviceName")
    service_version: ShortText = Field(alias="serviceVersion")
    name: ShortText
    params: Annotated[list[AuditParam], Field(max_length=MAX_PARAMS)]
    session_id: ShortText | None = Field(default=None, alias="sessionID")
    user_login: ShortText = Field(alias="userLogin")
    user_name: ShortText | None = Field(default=None, alias="userName")
    user_node: ShortText | None = Field(default=None, alias="userNode")

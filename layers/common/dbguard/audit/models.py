"""qhb_audit's event, as its manual documents it (field names exactly as QHB sends them).

QHB does not publish its event and parameter names, and a newer QHB may add fields: unknown fields
are allowed and kept. The bounds are dbguard.audit.limits.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dbguard.audit.limits import LATEST_DATETIME_MS, MAX_PARAM_VALUE_CHARS, MAX_PARAMS, MAX_TAGS

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

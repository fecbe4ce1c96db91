"""The CMDB change event (contract and JSON Schema in docs/cmdb-events.md).

Field names are the CMDB's. An upsert must describe the whole instance; a delete needs only its id.
Names end up in JumpServer (asset names, at most 128 characters) and in the secret name
`<SecretsPrefix>/<name>`, so they are restricted to what both accept.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@+=-]{0,127}$"
MANAGED_LABEL = "dbguard"
MAX_VERSION = 2**53 - 1  # the largest integer every JSON producer represents exactly
# how far a version may be ahead of dbguard's clock read as epoch milliseconds (services/cmdb_sync.py)
VERSION_LEAD_MS = 86_400_000
# Control characters (C0, DEL, C1) reach JumpServer as they are: a NUL in db_name is a 400 there
# (DRF's CharField ProhibitNullCharactersValidator), in a label a 500 (PostgreSQL refuses NUL; no
# validator before v4.10.19), so none is let through.
_NO_CONTROL = r"[^\x00-\x1f\x7f-\x9f]"
_TEXT = rf"^{_NO_CONTROL}+$"
# JumpServer labels are "key:value" strings, split at the first ':' and each part 1-64 characters
# (labels/models.py Label.name, .value max_length=64; v4.10.19 refuses ':' and ',' in either)
_LABEL = re.compile(r"^[^:,\s\x00-\x1f\x7f-\x9f][^:,\x00-\x1f\x7f-\x9f]{0,63}$")


class CmdbInstance(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)

    # the id also becomes the value of the asset's `dbguard` label: no ':' or ',', at most 64 characters
    id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_./-]+$",
        description="The CMDB's stable id of the instance.",
    )
    name: str | None = Field(
        default=None,
        pattern=_NAME,
        description="Asset name in JumpServer; the secret is <SecretsPrefix>/<name>.",
    )
    engine: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="Key of the engine map: qhb, postgresql, mysql, ...",
    )
    host: str | None = Field(
        default=None, min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Address JumpServer connects to (the database itself, not the proxy).",
    )  # fmt: skip
    port: int | None = Field(default=None, ge=1, le=65535, strict=True)
    database: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=_TEXT,
        description="Database name (db_name in JumpServer); no control characters.",
    )
    environment: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Chooses the JumpServer node (NodePathTemplate).",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        max_length=32,
        description="Copied to the asset's labels; 'dbguard' is reserved.",
        json_schema_extra={
            "propertyNames": {"pattern": _LABEL.pattern, "not": {"pattern": rf"^\s*{MANAGED_LABEL}\s*$"}},
            "additionalProperties": {"type": "string", "pattern": _LABEL.pattern},
        },
    )
    credentials_secret_arn: str | None = Field(
        default=None,
        alias="credentialsSecretArn",
        pattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$",
        description="Secret with JSON {username, password} of the database account JumpServer uses.",
    )

    @model_validator(mode="after")
    def _labels_fit_jumpserver(self) -> Self:
        for key, value in self.labels.items():
            # JumpServer v4 strips both parts with str.strip() (common/serializers/fields.py
            # LabelRelatedField.to_internal_value), which also removes \x1c-\x1f: "dbguard\x1f"
            # would become dbguard's own label, so the reserved name is compared as JumpServer stores it
            if key.strip() == MANAGED_LABEL:
                raise ValueError(
                    f"label {MANAGED_LABEL!r} is reserved: dbguard marks the assets it manages with it"
                )
            if not _LABEL.match(key) or not _LABEL.match(value):
                raise ValueError(
                    "label keys and values must be 1-64 characters without ':', ',' or control characters"
                )
        return self


UPSERT_REQUIRES = ("name", "engine", "host", "port", "database", "environment")


class DescribedInstance(BaseModel):
    """An instance as an upsert describes it: everything a registration needs is there."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    engine: str
    host: str
    port: int
    database: str
    environment: str
    labels: dict[str, str]
    credentials_secret_arn: str | None


class CmdbChange(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        populate_by_name=True,
        json_schema_extra={
            "if": {"properties": {"action": {"const": "upsert"}}},
            "then": {"properties": {"instance": {"required": ["id", *UPSERT_REQUIRES]}}},
        },
    )

    action: Literal["upsert", "delete"] = Field(
        description="upsert describes the whole instance; delete retires it."
    )
    version: int = Field(
        ge=0,
        le=MAX_VERSION,
        strict=True,
        description=(
            "Increases with every change of the instance; older or equal ones are ignored. A counter, "
            "or a timestamp in seconds or milliseconds: at most the current time in milliseconds plus "
            "one day (later ones are refused), so no change can put an instance out of reach."
        ),
    )
    changed_at: datetime = Field(
        alias="changedAt", description="When the CMDB recorded the change (ISO 8601)."
    )
    instance: CmdbInstance

    @model_validator(mode="after")
    def _upsert_is_complete(self) -> Self:
        if self.action == "upsert":
            missing = [name for name in UPSERT_REQUIRES if getattr(self.instance, name) is None]
            if missing:
                raise ValueError(f"an upsert must give instance.{', instance.'.join(missing)}")
        return self

    def described(self) -> DescribedInstance:
        """The instance of an upsert (validated complete)."""
        return DescribedInstance.model_validate(self.instance.model_dump())


class CmdbChangeEvent(BaseModel):
    """The EventBridge envelope as it arrives in the SQS message body: the fields of Powertools'
    EventBridgeModel, whose module would load every Powertools parser model at each cold start."""

    model_config = ConfigDict(populate_by_name=True)

    version: str
    id: str
    source: str
    # not used by dbguard, and absent from what some EventBridge emulators deliver (moto)
    account: str | None = None
    time: datetime
    region: str
    resources: list[str]
    detail_type: str = Field(alias="detail-type")
    detail: CmdbChange
    replay_name: str | None = Field(default=None, alias="replay-name")

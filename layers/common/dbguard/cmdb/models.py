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
_LABEL = re.compile(r"^[^:,\s][^:,]{0,63}$")  # JumpServer labels are "key:value" strings


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
    port: int | None = Field(default=None, ge=1, le=65535)
    database: str | None = Field(
        default=None, min_length=1, max_length=128, description="Database name (db_name in JumpServer)."
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
            "propertyNames": {"pattern": _LABEL.pattern, "not": {"const": MANAGED_LABEL}},
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
        if MANAGED_LABEL in self.labels:
            raise ValueError(
                f"label {MANAGED_LABEL!r} is reserved: dbguard marks the assets it manages with it"
            )
        for key, value in self.labels.items():
            if not _LABEL.match(key) or not _LABEL.match(value):
                raise ValueError(f"label {key!r}: keys and values must be 1-64 characters without ':' or ','")
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
        le=2**53,
        description="Increases with every change of the instance; older or equal ones are ignored.",
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

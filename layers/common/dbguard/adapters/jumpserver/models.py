"""What the client returns, parsed from JumpServer's responses (field names are JumpServer's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from dbguard.cmdb.inventory import DatabaseAsset

DATE_FORMAT = "%Y/%m/%d %H:%M:%S %z"  # JumpServer's, in the server's time zone


def parse_date(value: Any) -> Any:
    if isinstance(value, str) and "/" in value:
        return datetime.strptime(value, DATE_FORMAT)
    return value


class JumpServerDatabaseAsset(DatabaseAsset):
    """A database asset read from JumpServer's answer."""

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_of_either_version(cls, value: Any) -> dict[str, str]:
        """v3 answers ["key:value"], v4 [{"name", "value", ...}]."""
        labels = {}
        for label in value or []:
            if isinstance(label, dict):
                labels[str(label.get("name"))] = str(label.get("value"))
            else:
                name, _, text = str(label).partition(":")
                labels[name] = text
        return labels


class ConnectionToken(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    value: SecretStr = Field(repr=False)
    date_expired: datetime
    is_expired: bool = False
    is_reusable: bool = False

    @field_validator("date_expired", mode="before")
    @classmethod
    def _server_date(cls, value: Any) -> Any:
        return parse_date(value)

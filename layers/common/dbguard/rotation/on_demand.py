"""An operator's requests to token_rotation (contract in docs/rotation.md): the on-demand rotation
`{"rotate": ["<name>", ...]}` or `{"rotate": "all"}`, with `"force": true` to rotate within
ConsumerCacheSeconds of the last rotation; and the token check `{"checkToken": "<token id>",
"database": "<name>"}` (is a token still in a label of the database's secret, still valid?)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

MAX_NAMES = 1000

DatabaseName = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class OnDemandRotation(BaseModel):
    # built on first use: an operator's request is rare, and building costs every cold start
    model_config = ConfigDict(extra="forbid", defer_build=True)

    rotate: Literal["all"] | Annotated[list[DatabaseName], Field(min_length=1, max_length=MAX_NAMES)]
    # rotate even if the last rotation is younger than ConsumerCacheSeconds: expires the token that
    # applications may still hold in their cache (the one two rotations back)
    force: StrictBool = False  # "yes" or 1 must not break cached consumers by accident

    @property
    def names(self) -> list[str] | None:
        """The databases asked for; None means every active one."""
        return None if self.rotate == "all" else self.rotate


class TokenCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    token_id: str = Field(alias="checkToken", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    database: DatabaseName

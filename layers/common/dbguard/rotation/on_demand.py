"""The on-demand rotation request (contract in docs/rotation.md): `{"rotate": ["<name>", ...]}` or
`{"rotate": "all"}`, with `"force": true` to rotate within ConsumerCacheSeconds of the last rotation."""

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

"""A step of Secrets Manager's own rotation protocol (`aws secretsmanager rotate-secret`): Secrets
Manager calls the rotation function once per step with the secret and the new version's id."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RotationStep(BaseModel):
    # built on first use: only `rotate-secret` sends these, and building costs every cold start
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    step: Literal["createSecret", "setSecret", "testSecret", "finishSecret"] = Field(alias="Step")
    secret_id: str = Field(alias="SecretId", min_length=1, max_length=2048)
    version_id: str = Field(alias="ClientRequestToken", min_length=32, max_length=64)

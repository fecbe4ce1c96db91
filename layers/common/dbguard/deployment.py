"""The stack's settings check: at every create and update, a CloudFormation custom resource asks
token_rotation whether the deployment can keep a valid token in place (docs/rotation.md, "Settings
that work together"), and the stack fails with the reasons when it cannot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class CustomResourceRequest(BaseModel):
    # built on first use: only the stack's deployments send one, not the function's other callers
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    request_type: Literal["Create", "Update", "Delete"] = Field(alias="RequestType")
    response_url: str = Field(alias="ResponseURL")
    stack_id: str = Field(alias="StackId")
    request_id: str = Field(alias="RequestId")
    logical_resource_id: str = Field(alias="LogicalResourceId")
    physical_resource_id: str | None = Field(default=None, alias="PhysicalResourceId")
    properties: dict[str, Any] = Field(default_factory=dict, alias="ResourceProperties")


class CustomResourceAnswers(Protocol):
    def respond(
        self,
        request: CustomResourceRequest,
        *,
        success: bool,
        reason: str,
        physical_id: str,
        data: Mapping[str, str] | None = None,
    ) -> None:
        """Tell CloudFormation the outcome (the stack waits for it); `data`: the resource's attributes
        (`!GetAtt <resource>.<name>`)."""
        ...

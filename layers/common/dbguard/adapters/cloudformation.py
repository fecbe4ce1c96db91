"""Answering a CloudFormation custom resource request (the stack waits for this PUT)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_RESPONSE_TIMEOUT_SECONDS = 10


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


def respond(request: CustomResourceRequest, *, success: bool, reason: str, physical_id: str) -> None:
    import requests  # here, not at the top: few invocations answer CloudFormation (cold start)

    body = {
        "Status": "SUCCESS" if success else "FAILED",
        "Reason": reason[:3500],  # CloudFormation refuses responses over 4 KB
        "PhysicalResourceId": request.physical_resource_id or physical_id,
        "StackId": request.stack_id,
        "RequestId": request.request_id,
        "LogicalResourceId": request.logical_resource_id,
    }
    # the pre-signed S3 URL was signed without a content type: sending one breaks the signature
    response = requests.put(
        request.response_url,
        data=json.dumps(body),
        headers={"Content-Type": ""},
        timeout=_RESPONSE_TIMEOUT_SECONDS,
    )
    response.raise_for_status()

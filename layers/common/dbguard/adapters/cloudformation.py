"""Answering a CloudFormation custom resource request (the stack waits for this PUT)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # built only when CloudFormation asks, at deployments (cold start)
    from dbguard.deployment import CustomResourceRequest

_RESPONSE_TIMEOUT_SECONDS = 10


class CloudFormationAnswers:
    """deployment.py CustomResourceAnswers: a PUT to the request's pre-signed URL."""

    def respond(
        self,
        request: CustomResourceRequest,
        *,
        success: bool,
        reason: str,
        physical_id: str,
        data: Mapping[str, str] | None = None,
    ) -> None:
        import requests  # here, not at the top: few invocations answer CloudFormation (cold start)

        body: dict[str, Any] = {
            "Status": "SUCCESS" if success else "FAILED",
            "Reason": reason[:3500],  # CloudFormation refuses responses over 4 KB
            "PhysicalResourceId": request.physical_resource_id or physical_id,
            "StackId": request.stack_id,
            "RequestId": request.request_id,
            "LogicalResourceId": request.logical_resource_id,
        }
        if data is not None:
            body["Data"] = dict(data)
        # the pre-signed S3 URL was signed without a content type: sending one breaks the signature
        response = requests.put(
            request.response_url,
            data=json.dumps(body),
            headers={"Content-Type": ""},
            timeout=_RESPONSE_TIMEOUT_SECONDS,
        )
        response.raise_for_status()

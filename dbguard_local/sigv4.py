"""AWS_IAM routes locally: a request must carry a valid Signature Version 4 for `execute-api`,
signed with the local stack's credentials (AWS_ACCESS_KEY_ID=testing, as the banner shows).

Locally "IAM" means "signed by the local credentials": there are no IAM policies to evaluate, but
an unsigned, wrongly signed or differently keyed request, or one whose signature is scoped to
another region or service, is refused exactly as API Gateway does.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from dbguard_local.errors import GatewayRefusal

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request,"
    r"\s*SignedHeaders=(?P<headers>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


SERVICE = "execute-api"


class SigV4Verifier:
    def __init__(self, access_key: str, secret_key: str, region: str, account_id: str) -> None:
        self._credentials = Credentials(access_key, secret_key)
        self._region = region
        self._account_id = account_id

    def verify(self, method: str, url: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        """The caller's identity for the event's requestContext; raises GatewayRefusal (403)."""
        lowered = {name.lower(): value for name, value in headers.items()}
        match = _AUTHORIZATION.match(lowered.get("authorization", ""))
        if match is None:
            raise GatewayRefusal("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        self._check_scope(match["region"], match["service"])
        if match["key"] != self._credentials.access_key:
            raise GatewayRefusal(
                "INVALID_SIGNATURE", 403, "The security token included in the request is invalid."
            )
        signed = match["headers"].split(";")
        if "x-amz-date" not in lowered or any(name not in lowered for name in signed):
            raise GatewayRefusal("INCOMPLETE_SIGNATURE", 403, "Signature is missing a signed header")
        if url.startswith("/"):
            url = f"http://{lowered.get('host', '')}{url}"
        request = AWSRequest(method=method, url=url, data=body, headers={n: lowered[n] for n in signed})
        request.context["timestamp"] = lowered["x-amz-date"]
        signer = SigV4Auth(self._credentials, SERVICE, self._region)
        expected = signer.signature(
            signer.string_to_sign(request, signer.canonical_request(request)), request
        )
        if not hmac.compare_digest(expected, match["signature"]):
            raise GatewayRefusal(
                "INVALID_SIGNATURE",
                403,
                "The request signature we calculated does not match the signature you provided.",
            )
        return self._identity(match["key"])

    def _check_scope(self, region: str, service: str) -> None:
        """API Gateway accepts only a signature scoped to its own region and to execute-api: one
        signed for another (a CLI's default region, `s3`) is refused even if its key is right."""
        if region != self._region:
            raise GatewayRefusal(
                "INVALID_SIGNATURE", 403, f"Credential should be scoped to a valid region, not '{region}'. "
            )
        if service != SERVICE:
            raise GatewayRefusal(
                "INVALID_SIGNATURE", 403, f"Credential should be scoped to correct service: '{SERVICE}'. "
            )

    def _identity(self, key: str) -> dict[str, Any]:
        return {
            "accessKey": key,
            "accountId": self._account_id,
            "caller": key,
            "user": key,
            "userArn": f"arn:aws:iam::{self._account_id}:user/local",
        }

"""The local gateway's AWS_IAM check: only requests SigV4-signed with the local credentials pass."""

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from dbguard_local.errors import GatewayRefusal
from dbguard_local.sigv4 import SigV4Verifier

URL = "http://127.0.0.1:3000/v1/audit/events?userLogin=etl&limit=5"
verifier = SigV4Verifier("testing", "testing", "eu-central-1", "123456789012")


def signed(
    url=URL, method="GET", body=b"", key=("testing", "testing"), service="execute-api", region="eu-central-1"
):
    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(Credentials(*key), service, region).add_auth(request)
    return {**request.headers, "Host": "127.0.0.1:3000"}  # what the HTTP client sends along


def test_a_correct_signature_passes_and_names_the_caller():
    identity = verifier.verify("GET", "/v1/audit/events?userLogin=etl&limit=5", signed(), b"")
    assert identity["accessKey"] == "testing"


@pytest.mark.parametrize(
    ("path", "headers", "kind"),
    [
        ("/v1/audit/events?userLogin=etl&limit=5", {}, "MISSING_AUTHENTICATION_TOKEN"),
        ("/v1/audit/events?userLogin=dba&limit=5", signed(), "INVALID_SIGNATURE"),  # query changed
        ("/v1/audit/events?userLogin=etl&limit=5", signed(key=("testing", "wrong")), "INVALID_SIGNATURE"),
        ("/v1/audit/events?userLogin=etl&limit=5", signed(key=("other", "testing")), "INVALID_SIGNATURE"),
        ("/v1/audit/events?userLogin=etl&limit=5", signed(service="s3"), "INVALID_SIGNATURE"),
    ],
)
def test_anything_else_is_refused(path, headers, kind):
    with pytest.raises(GatewayRefusal) as refused:
        verifier.verify("GET", path, headers, b"")
    assert (refused.value.kind, refused.value.status) == (kind, 403)


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({"region": "us-east-1"}, "Credential should be scoped to a valid region, not 'us-east-1'. "),
        ({"service": "s3"}, "Credential should be scoped to correct service: 'execute-api'. "),
        ({"service": "execute-api-x"}, "Credential should be scoped to correct service: 'execute-api'. "),
    ],
)
def test_a_signature_scoped_to_another_region_or_service_is_refused_as_api_gateway_does(scope, message):
    """Valid for its own scope, with the right key: still refused, naming what is wrong."""
    with pytest.raises(GatewayRefusal) as refused:
        verifier.verify("GET", "/v1/audit/events?userLogin=etl&limit=5", signed(**scope), b"")
    assert (refused.value.status, refused.value.message) == (403, message)

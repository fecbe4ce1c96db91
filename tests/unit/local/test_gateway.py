"""The local gateway's own rules, with stand-in functions: routing, resource policy (evaluated with
each route's authorisation as API Gateway does), authorizer cache and identity sources, payload
limit, integration failures and gateway response bodies."""

import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from dbguard_local.apigateway import resource_policy_verdict
from dbguard_local.cfn import Template, load_template
from dbguard_local.gateway import MAX_PAYLOAD_BYTES, RestApi
from dbguard_local.resources import name_resources
from dbguard_local.worker import FunctionFailed

GOOD = "good-token-" + "g" * 30


class StandIns:
    def __init__(self):
        self.calls = []

    def __call__(self, logical_id, event):
        self.calls.append(logical_id)
        if logical_id == "AuditAuthorizerFunction":
            token = event["queryStringParameters"]["token"]
            effect = "Allow" if token == GOOD else "Deny"
            statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": [event["methodArn"]]}
            return {
                "principalId": "qhb-ingest",
                "policyDocument": {"Statement": [statement]},
                "context": {"tokenSlot": 0},
            }
        if event["body"] == "crash":
            raise FunctionFailed("ValueError", "boom")
        return {"statusCode": 201, "body": json.dumps(event["requestContext"]["authorizer"])}


def gateway(**parameters):
    template = Template(load_template(), parameters=parameters)
    name_resources(template)
    functions = StandIns()
    return RestApi(template, "AuditApi", functions), functions


def post(api, token=GOOD, body=b"{}", source_ip="127.0.0.1", path="/v1/audit/events"):
    url = path + (f"?token={token}" if token is not None else "")
    return api.handle("POST", url, {"Content-Type": "application/json"}, body, source_ip)


def test_an_allowed_request_reaches_the_function_with_the_authorizer_context():
    api, functions = gateway()
    answer = post(api)
    assert answer.status == 201
    assert json.loads(answer.body) == {"principalId": "qhb-ingest", "tokenSlot": 0}
    assert functions.calls == ["AuditAuthorizerFunction", "AuditIngestFunction"]


def test_the_authorizer_answer_is_cached_per_token_for_the_template_ttl():
    api, functions = gateway()
    post(api)
    post(api)
    post(api, token="other-token-" + "o" * 30)
    assert functions.calls.count("AuditAuthorizerFunction") == 2
    uncached, uncached_calls = gateway(AuthorizerCacheTtlSeconds="0")
    post(uncached)
    post(uncached)
    assert uncached_calls.calls.count("AuditAuthorizerFunction") == 2


def test_a_missing_identity_source_is_401_without_asking_the_authorizer():
    api, functions = gateway()
    answer = post(api, token=None)
    assert answer.status == 401
    assert json.loads(answer.body) == {"msg": "Unauthorized", "errors": []}
    assert functions.calls == []


def test_a_denied_token_is_403_and_the_function_never_runs():
    api, functions = gateway()
    assert post(api, token="bad-token-" + "b" * 30).status == 403
    assert functions.calls == ["AuditAuthorizerFunction"]


@pytest.mark.parametrize(
    ("cidrs", "source", "status"),
    [
        ("10.0.0.0/8,192.0.2.10/32", "10.20.30.40", 201),  # inside a CIDR
        ("10.0.0.0/8,192.0.2.10/32", "192.0.2.10", 201),  # the single host
        ("10.0.0.0/8,192.0.2.10/32", "127.0.0.1", 403),  # outside every CIDR
        ("10.0.0.0/8,192.0.2.10/32", "192.0.2.11", 403),
        ("", "198.51.100.7", 201),  # no CIDRs configured: any source
        ("", "2001:db8::1", 201),
        ("10.0.0.0/8,2001:db8::/32", "2001:db8:1::5", 201),  # IPv6 inside an IPv6 CIDR
        ("10.0.0.0/8,2001:db8::/32", "2001:db9::5", 403),  # IPv6 outside
        ("10.0.0.0/8", "2001:db8::1", 403),  # IPv6 caller, IPv4-only list
        ("10.0.0.0/8", "::ffff:10.1.2.3", 201),  # an IPv4 client seen on a dual-stack socket
    ],
)
def test_the_source_cidr_restriction_is_enforced_on_ingest(cidrs, source, status):
    api, functions = gateway(AllowedSourceCidrs=cidrs)
    assert post(api, source_ip=source).status == status
    if status == 403:
        assert functions.calls == [], "a denied source must be refused before the authorizer runs"


def test_the_source_cidr_restriction_leaves_the_iam_query_routes_alone():
    """The Deny is on the ingest route only: an auditor queries from anywhere, and the signature is
    still what decides (the policy neither allows nor denies the query routes)."""
    api, functions = gateway(AllowedSourceCidrs="10.0.0.0/8")
    path = "/v1/audit/events?userLogin=etl"
    request = AWSRequest(method="GET", url=f"http://127.0.0.1:3000{path}", data=b"")
    SigV4Auth(Credentials("testing", "testing"), "execute-api", "eu-central-1").add_auth(request)
    headers = {**request.headers, "Host": "127.0.0.1:3000"}
    assert api.handle("GET", path, headers, b"", "198.51.100.7").status == 201
    assert api.handle("GET", path, {}, b"", "198.51.100.7").status == 403  # unsigned
    assert functions.calls == ["AuditQueryFunction"]


# What API Gateway decides for a policy and a route's authorisation (its "Table A", same account).
# A Lambda-authorised route with a policy that neither allows nor denies is let through: an Allow
# with an IpAddress condition therefore restricts nothing.
IP_ALLOW_ONLY = [
    {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "execute-api:Invoke",
        "Resource": "execute-api:/*/POST/audit/events",
        "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}},
    }
]
DENY_OUTSIDE = [
    {**IP_ALLOW_ONLY[0], "Condition": None},
    {**IP_ALLOW_ONLY[0], "Effect": "Deny", "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}},
]


@pytest.mark.parametrize(
    ("statements", "source", "verdict"),
    [
        (IP_ALLOW_ONLY, "10.1.1.1", "Allow"),
        (IP_ALLOW_ONLY, "192.0.2.1", None),  # neither: the authorizer alone decides
        (DENY_OUTSIDE, "10.1.1.1", "Allow"),
        (DENY_OUTSIDE, "192.0.2.1", "Deny"),  # explicit Deny wins over the Allow
        (DENY_OUTSIDE, "2001:db8::1", "Deny"),
        ([], "192.0.2.1", None),
    ],
)
def test_resource_policy_verdicts(statements, source, verdict):
    resource = "execute-api:/v1/POST/audit/events"
    assert resource_policy_verdict(statements, resource, source) == verdict
    assert resource_policy_verdict(statements, "execute-api:/v1/GET/audit/events", source) is None


def test_an_authorizer_allow_with_a_policy_that_neither_allows_nor_denies_is_let_through():
    api, functions = gateway()
    api._policy = IP_ALLOW_ONLY  # the policy the template used to have
    assert post(api, source_ip="192.0.2.1").status == 201
    assert functions.calls == ["AuditAuthorizerFunction", "AuditIngestFunction"]


def test_conditions_the_gateway_cannot_evaluate_are_refused_loudly():
    statement = {**IP_ALLOW_ONLY[0], "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}
    with pytest.raises(NotImplementedError):
        resource_policy_verdict([statement], "execute-api:/v1/POST/audit/events", "10.1.1.1")


def test_unknown_routes_and_stages_get_api_gateways_answer():
    api, functions = gateway()
    for path in ("/v1/nowhere", "/v2/audit/events", "/audit/events"):
        answer = post(api, path=path)
        assert answer.status == 403
        assert json.loads(answer.body)["msg"] == "Missing Authentication Token"
    assert functions.calls == []


def test_payloads_over_api_gateways_limit_are_413():
    api, functions = gateway()
    answer = post(api, body=b"x" * (MAX_PAYLOAD_BYTES + 1))
    assert answer.status == 413
    assert json.loads(answer.body) == {"msg": "request body too large", "errors": []}
    assert functions.calls == []


def test_a_crashing_function_is_a_502():
    api, _ = gateway()
    answer = post(api, body=b"crash")
    assert answer.status == 502
    assert json.loads(answer.body)["msg"] == "Internal server error"

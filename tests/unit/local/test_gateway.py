"""The local gateway's own rules, with stand-in functions: routing, resource policy, authorizer
cache and identity sources, payload limit, integration failures and gateway response bodies."""

import json

import pytest

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


@pytest.mark.parametrize(("source", "status"), [("10.20.30.40", 201), ("127.0.0.1", 403), ("192.0.2.1", 403)])
def test_the_source_cidr_allow_list_is_enforced(source, status):
    api, _ = gateway(AllowedSourceCidrs="10.0.0.0/8,192.0.2.10/32")
    assert post(api, source_ip=source).status == status


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

import json

import boto3
import pytest

from dbguard.errors import ConfigurationError
from dbguard_local.apigateway import authorizer_event, method_arn, policy_allows, proxy_event

CURRENT = "current-ingest-token-aaaaaaaaaaaaaaaaaaaaaaa"
NEXT = "next-ingest-token-bbbbbbbbbbbbbbbbbbbbbbbbbbbb"
REGION = "eu-central-1"
INGEST_ARN = method_arn(REGION, "v1", "POST", "/audit/events")


@pytest.fixture
def token_secret(stack):
    return stack.physical_ids["IngestTokenSecret"]


@pytest.fixture
def set_tokens(token_secret):
    def put(value):
        boto3.client("secretsmanager").put_secret_value(SecretId=token_secret, SecretString=json.dumps(value))

    return put


@pytest.fixture
def authorizer(load_function, set_tokens):
    set_tokens({"tokens": [CURRENT]})
    return load_function("AuditAuthorizerFunction")


def authorize(function, token=None):
    query = {"token": [token]} if token is not None else None
    request = proxy_event(
        "POST", "/audit/events", resource="/audit/events", query=query, source_ip="10.9.8.7"
    )
    return function.invoke(authorizer_event(request, REGION))


def test_a_valid_token_is_allowed_on_the_ingest_route_only(authorizer):
    answer = authorize(authorizer, CURRENT)
    assert policy_allows(answer["policyDocument"], INGEST_ARN)
    assert not policy_allows(answer["policyDocument"], method_arn(REGION, "v1", "GET", "/audit/events"))
    assert answer["principalId"] == "qhb-ingest"
    assert answer["context"] == {"tokenSlot": 0}


def test_a_wrong_token_is_denied(authorizer):
    answer = authorize(authorizer, CURRENT[:-1] + "X")
    assert not policy_allows(answer["policyDocument"], INGEST_ARN)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_a_missing_or_empty_token_is_unauthorized(authorizer):
    for token in (None, ""):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorize(authorizer, token)


def test_two_tokens_are_valid_during_a_change(load_function, set_tokens):
    set_tokens({"tokens": [CURRENT, NEXT]})
    function = load_function("AuditAuthorizerFunction")
    assert authorize(function, NEXT)["context"] == {"tokenSlot": 1}
    assert policy_allows(authorize(function, CURRENT)["policyDocument"], INGEST_ARN)


def test_the_template_generated_secret_works_as_is(load_function, token_secret):
    generated = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId=token_secret)["SecretString"]
    )
    function = load_function("AuditAuthorizerFunction")
    assert policy_allows(authorize(function, generated["tokens"])["policyDocument"], INGEST_ARN)


def test_a_rotated_token_is_honoured_once_the_cache_expires(load_function, set_tokens):
    set_tokens({"tokens": [CURRENT]})
    function = load_function("AuditAuthorizerFunction", INGEST_TOKEN_CACHE_SECONDS="0")
    assert policy_allows(authorize(function, CURRENT)["policyDocument"], INGEST_ARN)
    set_tokens({"tokens": [NEXT]})
    assert not policy_allows(authorize(function, CURRENT)["policyDocument"], INGEST_ARN)
    assert policy_allows(authorize(function, NEXT)["policyDocument"], INGEST_ARN)


def test_a_token_added_to_the_secret_is_honoured_at_once_but_misses_refresh_rarely(load_function, set_tokens):
    set_tokens({"tokens": [CURRENT]})
    function = load_function("AuditAuthorizerFunction")  # the secret is cached for a minute
    assert policy_allows(authorize(function, CURRENT)["policyDocument"], INGEST_ARN)
    set_tokens({"tokens": [CURRENT, NEXT]})
    assert policy_allows(authorize(function, NEXT)["policyDocument"], INGEST_ARN)  # a miss re-read it
    set_tokens({"tokens": [CURRENT, NEXT, CURRENT + "-third"]})
    # a second miss within REFRESH_ON_MISS_SECONDS does not read again: wrong tokens cannot flood
    # Secrets Manager; the new token works once the cache or the refresh interval has passed
    assert not policy_allows(authorize(function, CURRENT + "-third")["policyDocument"], INGEST_ARN)


def test_a_malformed_token_secret_refuses_everything_loudly(load_function, set_tokens):
    set_tokens({"tokens": ["too-short-token"]})
    function = load_function("AuditAuthorizerFunction")
    with pytest.raises(
        Exception, match=r"ingest token secret is malformed: tokens: .*token 0 must be"
    ) as raised:
        authorize(function, "too-short-token")
    # the function's own (freshly imported) ConfigurationError: API Gateway answers 500, the alarm fires
    assert type(raised.value).__name__ == ConfigurationError.__name__
    assert "too-short-token" not in str(raised.value)


def test_tokens_never_reach_the_logs(authorizer, capsys):
    authorize(authorizer, CURRENT)
    authorize(authorizer, NEXT)
    logs = capsys.readouterr()
    assert "ingest token rejected" in logs.out
    assert CURRENT not in logs.out + logs.err
    assert NEXT not in logs.out + logs.err

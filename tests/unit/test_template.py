"""What the template promises an operator: least privilege, encryption, recovery, alarms, no token leaks."""

import tomllib
from pathlib import Path

import pytest

from dbguard_local.cfn import Template, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = load_template()
RESOURCES = DOCUMENT["Resources"]


def of_type(type_name):
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == type_name}


def test_every_function_policy_names_its_resources():
    for name, function in of_type("AWS::Serverless::Function").items():
        for policy in function["Properties"].get("Policies", []):
            assert isinstance(policy, dict), f"{name}: use an inline statement, not a broad managed policy"
            for statement in policy["Statement"]:
                resources = statement["Resource"]
                resources = resources if isinstance(resources, list) else [resources]
                assert "*" not in resources, f"{name} grants {statement['Action']} on *"
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert not any(action.endswith(":*") for action in actions), f"{name} grants a whole service"


def test_every_table_is_encrypted_recoverable_and_protected():
    for name, table in of_type("AWS::DynamoDB::Table").items():
        properties = table["Properties"]
        assert properties["SSESpecification"]["SSEEnabled"] is True, name
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert properties["DeletionProtectionEnabled"] is True, name
        assert table["DeletionPolicy"] == "Retain", name


def test_every_function_has_a_log_group_with_retention_and_an_error_alarm():
    functions = set(of_type("AWS::Serverless::Function"))
    log_groups = of_type("AWS::Logs::LogGroup").values()
    alarmed = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for alarm in of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["MetricName"] == "Errors"
    }
    for function in functions:
        assert any(
            f"${{{function}}}" in str(group["Properties"].get("LogGroupName")) for group in log_groups
        ), function
        assert function in alarmed, function
    for group in log_groups:
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_the_api_never_records_the_query_string():
    api = RESOURCES["AuditApi"]["Properties"]
    access_log = api["AccessLogSetting"]["Format"]
    for leaky in ("$context.path", "querystring", "$input", "$context.requestOverride"):
        assert leaky not in access_log
    for setting in api["MethodSettings"]:
        assert setting["DataTraceEnabled"] is False
        assert setting["LoggingLevel"] in ("ERROR", "OFF")


def test_the_ingest_route_uses_the_token_authorizer_with_caching():
    authorizer = RESOURCES["AuditApi"]["Properties"]["Auth"]["Authorizers"]["IngestTokenAuthorizer"]
    assert authorizer["FunctionPayloadType"] == "REQUEST"
    assert authorizer["Identity"]["QueryStrings"] == ["token"]
    assert authorizer["Identity"]["ReauthorizeEvery"] == {"Ref": "AuthorizerCacheTtlSeconds"}
    route = RESOURCES["AuditIngestFunction"]["Properties"]["Events"]["PostEvents"]["Properties"]
    assert route["Auth"]["Authorizer"] == "IngestTokenAuthorizer"


@pytest.mark.parametrize(("cidrs", "restricted"), [("", False), ("10.0.0.0/8,192.0.2.10/32", True)])
def test_the_source_cidr_allow_list_is_optional(cidrs, restricted):
    template = Template(DOCUMENT, parameters={"AllowedSourceCidrs": cidrs})
    (statement,) = template.resolve(
        RESOURCES["AuditApi"]["Properties"]["Auth"]["ResourcePolicy"]["CustomStatements"]
    )
    assert statement["Resource"] == "execute-api:/*/POST/audit/events"
    if restricted:
        assert statement["Condition"] == {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.10/32"]}}
    else:
        assert "Condition" not in statement


def test_every_parameter_is_documented():
    parameters = DOCUMENT["Parameters"]
    reference = (REPO_ROOT / "docs" / "configuration.md").read_text()
    for name, spec in parameters.items():
        assert spec.get("Description"), name
        assert f"`{name}`" in reference, f"{name} is missing from docs/configuration.md"


def test_samconfig_environments_override_only_declared_parameters():
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    environments = {
        name for name, sections in config.items() if isinstance(sections, dict) and "deploy" in sections
    }
    assert {"default", "prod"} <= environments
    for environment in environments:
        overrides = config[environment]["deploy"]["parameters"].get("parameter_overrides", [])
        names = {pair.split("=", 1)[0] for pair in overrides}
        assert names <= set(DOCUMENT["Parameters"]), environment

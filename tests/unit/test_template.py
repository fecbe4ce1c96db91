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
        assert table["UpdateReplacePolicy"] == "Retain", name


def test_every_function_has_a_log_group_with_retention_and_an_error_alarm():
    functions = set(of_type("AWS::Serverless::Function"))
    log_groups = of_type("AWS::Logs::LogGroup").values()
    alarmed = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for alarm in of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "Errors"
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


def test_the_api_calls_the_authorizer_through_the_alias_snapstart_applies_to():
    authorizer = RESOURCES["AuditApi"]["Properties"]["Auth"]["Authorizers"]["IngestTokenAuthorizer"]
    assert authorizer["FunctionArn"] == {"Ref": "AuditAuthorizerFunction.Alias"}


@pytest.mark.parametrize(("enabled", "apply_on"), [("false", "None"), ("true", "PublishedVersions")])
def test_snapstart_applies_to_every_functions_published_versions_when_enabled(enabled, apply_on):
    template = Template(DOCUMENT, parameters={"EnableSnapStart": enabled})
    globals_ = template.function_globals()
    assert template.resolve(globals_["SnapStart"]) == {"ApplyOn": apply_on}
    assert globals_["AutoPublishAlias"] == "live"  # every event source calls the snapshotted version
    assert DOCUMENT["Parameters"]["EnableSnapStart"]["Default"] == "false"  # billed: the operator opts in
    for name, function in of_type("AWS::Serverless::Function").items():
        assert not {"SnapStart", "AutoPublishAlias"} & set(function["Properties"]), name
        assert function["Properties"]["AutoPublishAliasAllProperties"] is True, name  # settings publish too


def ingest_policy(cidrs):
    template = Template(DOCUMENT, parameters={"AllowedSourceCidrs": cidrs})
    return template.resolve(RESOURCES["AuditApi"]["Properties"]["Auth"]["ResourcePolicy"]["CustomStatements"])


def test_allowed_source_cidrs_become_an_explicit_deny_on_the_ingest_route():
    """With a Lambda authorizer an Allow + IpAddress restricts nothing: only an explicit Deny does."""
    statements = ingest_policy("10.0.0.0/8,192.0.2.10/32,2001:db8::/32")
    denies = [statement for statement in statements if statement["Effect"] == "Deny"]
    assert denies == [
        {
            "Sid": "IngestOnlyFromAllowedSourceCidrs",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*/POST/audit/events",
            "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.10/32", "2001:db8::/32"]}},
        }
    ]
    route = RESOURCES["AuditIngestFunction"]["Properties"]["Events"]["PostEvents"]["Properties"]
    assert (route["Method"].upper(), route["Path"]) == ("POST", "/audit/events")


def test_without_allowed_source_cidrs_nothing_is_denied():
    statements = ingest_policy("")
    assert [statement["Effect"] for statement in statements] == ["Allow"]
    assert "Condition" not in statements[0]


@pytest.mark.parametrize("cidrs", ["", "10.0.0.0/8"])
def test_the_resource_policy_never_opens_the_iam_query_routes(cidrs):
    """Same-account auditors need only their IAM policy; an Allow here would admit other accounts."""
    for statement in ingest_policy(cidrs):
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        if statement["Effect"] == "Allow":
            assert resources == ["execute-api:/*/POST/audit/events"], statement


def refs_by_logical_id():
    """The template with every resource "created" under its own logical id, so Refs resolve to names."""
    template = Template(DOCUMENT)
    for logical_id in RESOURCES:
        template.record(logical_id, logical_id, Arn=f"arn:{logical_id}")
    return template


def test_every_alarm_notifies_a_topic_whose_key_cloudwatch_may_use():
    """alias/aws/sns (or any key CloudWatch cannot use) drops every notification without an error."""
    template = refs_by_logical_id()
    alarms = of_type("AWS::CloudWatch::Alarm")
    assert alarms
    for name, alarm in alarms.items():
        actions = {key: alarm["Properties"].get(key, []) for key in ("AlarmActions", "OKActions")}
        targets = [target for listed in template.resolve(actions).values() for target in listed]
        assert targets, f"{name} notifies nobody"
        for target in targets:
            assert RESOURCES.get(target, {}).get("Type") == "AWS::SNS::Topic", f"{name} -> {target}"
            key_ref = RESOURCES[target]["Properties"].get("KmsMasterKeyId")
            key = template.resolve(key_ref)
            assert RESOURCES.get(key, {}).get("Type") == "AWS::KMS::Key", f"{target} is encrypted with {key}"
            assert RESOURCES[key]["Properties"]["EnableKeyRotation"] is True
            assert key_allows(
                template, key, "cloudwatch.amazonaws.com", {"kms:Decrypt", "kms:GenerateDataKey*"}
            )


def key_allows(template, key, service, actions):
    for statement in template.resolve(RESOURCES[key]["Properties"]["KeyPolicy"])["Statement"]:
        principals = statement.get("Principal", {}).get("Service", [])
        principals = principals if isinstance(principals, list) else [principals]
        granted = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and service in principals and actions <= set(granted):
            return True
    return False


def test_every_key_rotates_and_is_administered_through_the_account():
    template = refs_by_logical_id()
    for name, key in of_type("AWS::KMS::Key").items():
        # KMS rotates symmetric keys only; a signing key keeps its key pair (verifiers hold its public key)
        if key["Properties"].get("KeyUsage") != "SIGN_VERIFY":
            assert key["Properties"]["EnableKeyRotation"] is True, name
        policy = template.resolve(key["Properties"]["KeyPolicy"])
        roots = [
            statement["Principal"].get("AWS")
            for statement in policy["Statement"]
            if statement["Effect"] == "Allow"
        ]
        assert "arn:aws:iam::123456789012:root" in roots, name
        for statement in policy["Statement"]:
            if statement["Effect"] == "Allow":  # a Deny to everyone but one role narrows, never opens
                assert statement["Principal"] not in ("*", {"AWS": "*"}), f"{name} is open to everyone"


def test_only_audit_digest_may_sign_with_the_digest_key():
    policy = refs_by_logical_id().resolve(RESOURCES["DigestSigningKey"]["Properties"]["KeyPolicy"])
    [deny] = [statement for statement in policy["Statement"] if statement["Effect"] == "Deny"]
    assert deny["Action"] == "kms:Sign"
    assert deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == "arn:AuditDigestRole"
    assert RESOURCES["DigestSigningKey"]["Properties"]["KeySpec"].startswith("RSA_")


def test_the_digest_bucket_locks_in_compliance_mode_at_least_as_long_as_the_events_are_kept():
    bucket = RESOURCES["DigestBucket"]
    lock = bucket["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert lock["Mode"] == "COMPLIANCE"
    assert lock["Days"] == {"Fn::If": ["ExpireAuditEvents", {"Ref": "AuditRetentionDays"}, 36500]}
    assert (bucket["DeletionPolicy"], bucket["Properties"]["ObjectLockEnabled"]) == ("Retain", True)


def test_log_groups_are_encrypted_with_the_logs_key_and_kept_with_their_key():
    template = refs_by_logical_id()
    for name, group in of_type("AWS::Logs::LogGroup").items():
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}, name
        assert (group.get("DeletionPolicy"), group.get("UpdateReplacePolicy")) == ("Retain", "Retain"), name
    assert (RESOURCES["LogsKey"]["DeletionPolicy"], RESOURCES["LogsKey"]["UpdateReplacePolicy"]) == (
        "Retain",
        "Retain",
    )
    region_logs = f"logs.{template.region}.amazonaws.com"
    assert key_allows(
        template, "LogsKey", region_logs, {"kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"}
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("AuditEventsTable", "Retain"),
        ("RegistryTable", "Retain"),
        ("IngestTokenSecret", "Retain"),
        ("JumpServerCredentialsSecret", "Retain"),
        ("QueryCursorKeySecret", "Delete"),
    ],
)
def test_stateful_resources_have_a_decided_deletion_and_replacement_policy(name, expected):
    resource = RESOURCES[name]
    assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == (expected, expected)


@pytest.mark.parametrize(
    ("function", "parameter"),
    [
        ("AuditIngestFunction", "IngestReservedConcurrency"),
        ("TokenRotationFunction", "RotationReservedConcurrency"),
    ],
)
@pytest.mark.parametrize(("value", "reserved"), [("", None), ("0", None), ("-1", None), ("25", "25")])
def test_reserved_concurrency_is_optional(function, parameter, value, reserved):
    template = Template(DOCUMENT, parameters={parameter: value})
    setting = {"value": RESOURCES[function]["Properties"]["ReservedConcurrentExecutions"]}
    assert template.resolve(setting).get("value") == reserved


def test_every_skipped_scanner_check_carries_its_reason():
    skipped = 0
    for name, resource in RESOURCES.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["id"].startswith("CKV_"), name
            assert len(skip.get("comment", "")) > 40, f"{name} skips {skip['id']} without a reason"
            skipped += 1
    assert skipped
    makefile = (REPO_ROOT / "Makefile").read_text()
    validate = makefile[makefile.index("\nvalidate:") : makefile.index("\n.PHONY: build")]
    assert "checkov -f template.yaml --framework cloudformation" in validate


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


@pytest.mark.parametrize("timeout", ["60", "300", "900"])
def test_the_database_lease_outlasts_every_function_that_takes_it(timeout):
    """A holder still running when its lease ran out could be overtaken mid-rotation."""
    template = Template(
        DOCUMENT, parameters={"RotationTimeoutSeconds": timeout, "JumpServerUrl": "https://j"}
    )
    globals_ = DOCUMENT["Globals"]["Function"]
    lease = int(template.resolve(globals_["Environment"]["Variables"]["ROTATION_LEASE_SECONDS"]))
    for logical_id in ("CmdbSyncFunction", "TokenRotationFunction"):
        properties = RESOURCES[logical_id]["Properties"]
        assert lease >= int(template.resolve(properties.get("Timeout", globals_.get("Timeout")))), logical_id


def test_the_consumer_cache_default_covers_the_aws_caching_clients():
    # the Python caching client and the JDBC driver refresh a secret after an hour by default
    assert int(DOCUMENT["Parameters"]["ConsumerCacheSeconds"]["Default"]) >= 3600


def bus_policy(principals):
    parameters = {"CmdbProducerPrincipals": principals, "JumpServerUrl": "https://j"}
    return Template(DOCUMENT, parameters=parameters).resolve(
        RESOURCES["CmdbEventBus"]["Properties"]["Policy"]
    )


def test_the_cmdb_bus_takes_only_cmdb_changes_and_only_from_named_producers():
    producer = "arn:aws:iam::210987654321:role/cmdb-publisher"
    statements = {statement["Sid"]: statement for statement in bus_policy(producer)["Statement"]}
    assert statements["OnlyCmdbChanges"]["Condition"] == {"StringNotEquals": {"events:source": "cmdb"}}
    assert statements["OnlyNamedProducers"]["Effect"] == "Deny"
    assert statements["OnlyNamedProducers"]["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [producer]
    assert statements["NamedProducersMayPut"]["Principal"] == {"AWS": [producer]}
    assert [s["Sid"] for s in bus_policy("")["Statement"]] == ["OnlyCmdbChanges"]


def test_cmdb_sync_may_describe_credentials_secrets_to_check_their_binding():
    statements = RESOURCES["CmdbSyncFunction"]["Properties"]["Policies"][0]["Statement"]
    assert any(statement["Action"] == "secretsmanager:DescribeSecret" for statement in statements)

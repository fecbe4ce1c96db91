"""Creating template.yaml's data resources (tables, secrets, ...) in the embedded AWS.

Properties are read from the template and translated to the matching API calls, so the local
tables have exactly the deployed key schema, indexes and TTL. Resources that only matter in the
cloud (IAM, log groups, alarms, the API itself) are not created: the local gateway and function
workers play their part.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3

from dbguard_local.apigateway import register_apis
from dbguard_local.cfn import Template
from dbguard_local.functions import register_functions


def deploy(template: Template, session: boto3.Session | None = None) -> None:
    """Everything a local run needs from the template: names for functions and APIs, data resources."""
    register_functions(template)
    register_apis(template)
    _register_roles(template)  # key policies name them
    create_data_resources(template, session)
    _register_cloud_only_resources(template)


def name_resources(template: Template) -> None:
    """Give every resource a placeholder name without creating anything (benchmarks, gateway tests)."""
    register_functions(template)
    register_apis(template)
    _register_cloud_only_resources(template)


def _register_cloud_only_resources(template: Template) -> None:
    """Log groups, alarms, topics...: not modelled locally, but their Ref/Arn must still resolve."""
    for logical_id in template.resources:
        if logical_id not in template.physical_ids:
            name = physical_name(template, logical_id)
            template.record(
                logical_id, name, Arn=f"arn:aws:local:{template.region}:{template.account_id}:{name}"
            )


def _register_roles(template: Template) -> None:
    for logical_id, resource in template.resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            name = physical_name(template, logical_id)
            template.record(logical_id, name, Arn=f"arn:aws:iam::{template.account_id}:role/{name}")


def create_data_resources(template: Template, session: boto3.Session | None = None) -> None:
    """Create every data resource whose condition holds, recording physical ids in `template`."""
    session = session or boto3.Session()
    for logical_id, resource in template.resources.items():
        creator = _CREATORS.get(resource["Type"])
        if creator is not None and template.is_created(logical_id):
            creator(template, logical_id, template.resolve(resource.get("Properties", {})), session)


def physical_name(template: Template, logical_id: str) -> str:
    return f"{template.stack_name}-{logical_id}"


def _create_table(
    template: Template, logical_id: str, properties: dict[str, Any], session: boto3.Session
) -> None:
    dynamodb = session.client("dynamodb")
    name = properties.get("TableName") or physical_name(template, logical_id)
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        "DeletionProtectionEnabled": properties.get("DeletionProtectionEnabled", False),
    }
    for key in ("GlobalSecondaryIndexes", "StreamSpecification"):
        if key in properties:
            request[key] = properties[key]
    sse = properties.get("SSESpecification")
    if sse:
        request["SSESpecification"] = {
            "Enabled": sse.get("SSEEnabled", False),
            "SSEType": sse.get("SSEType", "KMS"),
        }
    arn = dynamodb.create_table(**request)["TableDescription"]["TableArn"]
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    pitr = properties.get("PointInTimeRecoverySpecification", {})
    if pitr.get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    template.record(logical_id, name, Arn=arn)


def _create_secret(
    template: Template, logical_id: str, properties: dict[str, Any], session: boto3.Session
) -> None:
    secretsmanager = session.client("secretsmanager")
    name = properties.get("Name") or f"{template.stack_name}/{logical_id}"
    value = properties.get("SecretString")
    generate = properties.get("GenerateSecretString")
    if generate:
        value = _generated_secret(secretsmanager, generate)
    request = {"Name": name, "Description": properties.get("Description", "")}
    if value is not None:
        request["SecretString"] = value
    arn = secretsmanager.create_secret(**request)["ARN"]
    template.record(logical_id, arn, Id=arn)


def _generated_secret(secretsmanager: Any, spec: dict[str, Any]) -> str:
    password = secretsmanager.get_random_password(
        PasswordLength=int(spec.get("PasswordLength", 32)),
        ExcludePunctuation=bool(spec.get("ExcludePunctuation", False)),
        ExcludeCharacters=spec.get("ExcludeCharacters", ""),
    )["RandomPassword"]
    if "GenerateStringKey" not in spec:
        return password
    document = json.loads(spec.get("SecretStringTemplate", "{}"))
    document[spec["GenerateStringKey"]] = password
    return json.dumps(document)


_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "SqsManagedSseEnabled", "RedrivePolicy")


def _create_queue(
    template: Template, logical_id: str, properties: dict[str, Any], session: boto3.Session
) -> None:
    sqs = session.client("sqs")
    name = properties.get("QueueName") or physical_name(template, logical_id)
    attributes = {
        key: json.dumps(value) if isinstance(value, dict) else str(value).lower() if isinstance(value, bool)
        else str(value)
        for key, value in properties.items() if key in _QUEUE_ATTRIBUTES
    }  # fmt: skip
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    template.record(logical_id, url, Arn=arn, QueueName=name, QueueUrl=url)


def _create_event_bus(
    template: Template, logical_id: str, properties: dict[str, Any], session: boto3.Session
) -> None:
    arn = session.client("events").create_event_bus(Name=properties["Name"])["EventBusArn"]
    template.record(logical_id, properties["Name"], Arn=arn, Name=properties["Name"])


def _create_rule(
    template: Template, logical_id: str, properties: dict[str, Any], session: boto3.Session
) -> None:
    """The rule and its targets: moto delivers matching put_events to SQS targets, as EventBridge does."""
    events = session.client("events")
    name = properties.get("Name") or physical_name(template, logical_id)
    bus = properties.get("EventBusName", "default")
    arn = events.put_rule(
        Name=name, EventBusName=bus, EventPattern=json.dumps(properties["EventPattern"]), State="ENABLED"
    )["RuleArn"]
    targets = [{"Id": target["Id"], "Arn": target["Arn"]} for target in properties.get("Targets", [])]
    if targets:
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    template.record(logical_id, f"{bus}|{name}", Arn=arn)


def _create_key(
    template: Template, logical_id: str, properties: dict[str, Any], session: boto3.Session
) -> None:
    """Signing keys only (the digests' key, which make run uses): the encryption keys protect log groups
    and topics, which are not modelled locally."""
    if properties.get("KeyUsage") != "SIGN_VERIFY":
        return
    metadata = session.client("kms").create_key(
        Description=properties.get("Description", ""),
        KeySpec=properties["KeySpec"],
        KeyUsage="SIGN_VERIFY",
        Policy=json.dumps(properties["KeyPolicy"]),
    )["KeyMetadata"]
    template.record(logical_id, metadata["KeyId"], Arn=metadata["Arn"], KeyId=metadata["KeyId"])


def _create_alias(
    template: Template, logical_id: str, properties: dict[str, Any], session: boto3.Session
) -> None:
    session.client("kms").create_alias(
        AliasName=properties["AliasName"], TargetKeyId=properties["TargetKeyId"]
    )
    template.record(logical_id, properties["AliasName"])


def _create_bucket(
    template: Template, logical_id: str, properties: dict[str, Any], session: boto3.Session
) -> None:
    """As the template asks: Object Lock and its default retention (moto keeps locked versions),
    versioning, default encryption, and notifications to SQS (moto sends an S3 event notification to
    the queue for every object created under the filter, as S3 does)."""
    s3 = session.client("s3")
    name = properties.get("BucketName") or physical_name(template, logical_id).lower()
    s3.create_bucket(
        Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": template.region},
        ObjectLockEnabledForBucket=bool(properties.get("ObjectLockEnabled")),
    )
    lock = properties.get("ObjectLockConfiguration")
    if lock:
        retention = lock["Rule"]["DefaultRetention"]
        s3.put_object_lock_configuration(
            Bucket=name,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": retention["Mode"], "Days": int(retention["Days"])}},
            },
        )
    if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    encryption = properties.get("BucketEncryption")
    if encryption:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [  # the API's name for what CloudFormation calls ServerSideEncryptionByDefault
                    {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                    for rule in encryption["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    queues = properties.get("NotificationConfiguration", {}).get("QueueConfigurations", [])
    if queues:
        s3.put_bucket_notification_configuration(
            Bucket=name,
            NotificationConfiguration={"QueueConfigurations": [_queue_notification(q) for q in queues]},
        )
    template.record(logical_id, name, Arn=f"arn:aws:s3:::{name}")


def _queue_notification(configuration: dict[str, Any]) -> dict[str, Any]:
    rules = configuration.get("Filter", {}).get("S3Key", {}).get("Rules", [])
    notification: dict[str, Any] = {"QueueArn": configuration["Queue"], "Events": [configuration["Event"]]}
    if rules:
        notification["Filter"] = {"Key": {"FilterRules": rules}}
    return notification


def _create_bucket_policy(
    template: Template, logical_id: str, properties: dict[str, Any], session: boto3.Session
) -> None:
    """moto evaluates a bucket policy's Deny without its Condition (every PutObject would be refused):
    the statements with a condition are left out locally; the deployed bucket has them all."""
    document = properties["PolicyDocument"]
    statements = [statement for statement in document["Statement"] if "Condition" not in statement]
    if statements:
        session.client("s3").put_bucket_policy(
            Bucket=properties["Bucket"], Policy=json.dumps({**document, "Statement": statements})
        )
    template.record(logical_id, properties["Bucket"])


_CREATORS: dict[str, Callable[[Template, str, dict[str, Any], boto3.Session], None]] = {
    "AWS::DynamoDB::Table": _create_table,
    "AWS::SecretsManager::Secret": _create_secret,
    "AWS::SQS::Queue": _create_queue,
    "AWS::Events::EventBus": _create_event_bus,
    "AWS::Events::Rule": _create_rule,
    "AWS::KMS::Key": _create_key,
    "AWS::KMS::Alias": _create_alias,
    "AWS::S3::Bucket": _create_bucket,
    "AWS::S3::BucketPolicy": _create_bucket_policy,
}

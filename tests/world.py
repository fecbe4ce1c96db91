"""A deployed-looking world for the JumpServer-facing functions: the template in moto, a JumpServer
simulator as JumpServerUrl, the service user's credentials in the template's secret, and the
database account a CMDB change references. Test modules import these fixtures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from dbguard_local.cfn import Template
from dbguard_testkit.samples import CMDB_DATABASE_PASSWORD, cmdb_change, eventbridge_event, sqs_event
from jumpserver_sim import Simulator
from tests.conftest import JMS_PRIVATE_TOKEN

PROXY_HOST = "jms-proxy.example.com"
# the CMDB ids the tests register with the one credentials secret (its binding tag lists them)
DATABASES_SHARING_THE_TEST_ACCOUNT = ("cmdb-4711", "cmdb-0", "cmdb-1", "cmdb-2", "cmdb-big")
EXTRA_PARAMETERS: dict[str, str] = {}


@pytest.fixture
def template_parameters(jumpserver_sim: Simulator) -> dict[str, str]:
    return {
        "JumpServerUrl": jumpserver_sim.url,
        "JumpServerProxyHost": PROXY_HOST,
        "JumpServerPlatformIds": json.dumps({"PostgreSQL": 20}),  # v3 open source hides it
        "JumpServerRequestsPerMinute": "0",  # the fixture's simulator does not throttle (pacing: test_client)
        **EXTRA_PARAMETERS,
    }


@dataclass
class World:
    stack: Template
    jumpserver: Simulator

    @property
    def registry_table(self) -> str:
        return self.stack.physical_ids["RegistryTable"]

    def registry_item(self, cmdb_id: str = "cmdb-4711") -> dict[str, Any]:
        item = boto3.client("dynamodb").get_item(
            TableName=self.registry_table, Key={"cmdbId": {"S": cmdb_id}}
        )
        return item.get("Item", {})

    def secret(self, name: str = "billing-qhb-01", stage: str = "AWSCURRENT") -> dict[str, Any]:
        value = boto3.client("secretsmanager").get_secret_value(
            SecretId=f"dbguard/db/{name}", VersionStage=stage
        )
        return json.loads(value["SecretString"])

    def describe_secret(self, name: str = "billing-qhb-01") -> dict[str, Any]:
        return boto3.client("secretsmanager").describe_secret(SecretId=f"dbguard/db/{name}")

    def asset(self, name: str = "billing-qhb-01"):
        return next((a for a in self.jumpserver.store.assets.values() if a.name == name), None)

    def live_tokens(self) -> set[str]:
        now = self.jumpserver.clock()
        return {t.id for t in self.jumpserver.store.tokens.values() if t.expires > now}

    def operator_events(self) -> list[dict[str, Any]]:
        """What dbguard announced on the default bus (routed to a queue by a rule, as an operator would)."""
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=OPERATOR_QUEUE)["QueueUrl"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(message["Body"]) for message in messages]

    def dead_letters(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        url = self.stack.physical_ids["CmdbDeadLetterQueue"]
        return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", []
        )


@pytest.fixture
def world(stack: Template, jumpserver_sim: Simulator) -> World:
    secretsmanager = boto3.client("secretsmanager")
    secretsmanager.put_secret_value(
        SecretId=stack.physical_ids["JumpServerCredentialsSecret"],
        SecretString=json.dumps({"private_token": JMS_PRIVATE_TOKEN}),
    )
    secretsmanager.create_secret(
        Name="cmdb/billing-qhb-01",
        SecretString=json.dumps({"username": "billing_app", "password": CMDB_DATABASE_PASSWORD}),
        Tags=[{"Key": "dbguard:cmdb-ids", "Value": " ".join(DATABASES_SHARING_THE_TEST_ACCOUNT)}],
    )
    _route_operator_events()
    return World(stack, jumpserver_sim)


OPERATOR_QUEUE = "operator-events"


def _route_operator_events() -> None:
    queue = boto3.client("sqs").create_queue(QueueName=OPERATOR_QUEUE)["QueueUrl"]
    arn = boto3.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    events = boto3.client("events")
    events.put_rule(
        Name="dbguard-operator-events", EventPattern=json.dumps({"source": [{"prefix": "dbguard."}]})
    )
    events.put_targets(
        Rule="dbguard-operator-events", Targets=[{"Id": "queue", "Arn": arn["Attributes"]["QueueArn"]}]
    )


def batch(*details: dict[str, Any]) -> dict[str, Any]:
    """An SQS batch as cmdb_sync receives it, one EventBridge event per change."""
    return sqs_event(*(json.dumps(eventbridge_event(detail)) for detail in details))


def register(cmdb_sync, version: int = 1, **instance: Any) -> dict[str, Any]:
    return cmdb_sync.invoke(batch(cmdb_change(version=version, **instance)))

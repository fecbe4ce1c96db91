"""The embedded AWS answers each request atomically, as AWS does (dbguard_local/atomic.py): a
conditional write lets exactly one of many concurrent writers through, and Secrets Manager answers
while secrets are being created. Threads switch every 10 µs here, so moto's unlocked check-then-write
would let several writers through in nearly every run."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from dbguard_local.atomic import OneRequestAtATime

WRITERS = 8
EXISTING_SECRETS = 200


@pytest.fixture(autouse=True)
def threads_switch_often() -> Iterator[None]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(interval)


@pytest.fixture
def embedded_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server application as `make run` serves it: threaded, behind OneRequestAtATime."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    server = make_server(
        "127.0.0.1", 0, OneRequestAtATime(DomainDispatcherApplication(create_backend_app)), threaded=True
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def together(work: Callable[[int], None], count: int = WRITERS) -> list[Exception]:
    start = threading.Barrier(count)
    errors: list[Exception] = []

    def run(index: int) -> None:
        start.wait()
        try:
            work(index)
        except Exception as error:  # collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def only_one_conditional_write_wins(dynamodb) -> None:
    dynamodb.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
    )  # fmt: skip
    winners: list[int] = []

    def claim(index: int) -> None:
        dynamodb.update_item(
            TableName="t", Key={"k": {"S": "lease"}}, UpdateExpression="SET claimedBy = :me",
            ConditionExpression="attribute_not_exists(k)",
            ExpressionAttributeValues={":me": {"N": str(index)}},
        )  # fmt: skip
        winners.append(index)

    errors = together(claim)
    assert len(winners) == 1
    assert all(
        isinstance(e, ClientError) and e.response["Error"]["Code"] == "ConditionalCheckFailedException"
        for e in errors
    )
    item = dynamodb.get_item(TableName="t", Key={"k": {"S": "lease"}})["Item"]
    assert item["claimedBy"] == {"N": str(winners[0])}


def secrets_answer_while_others_are_created(secrets) -> None:
    for number in range(EXISTING_SECRETS):  # every lookup walks them all (moto's SecretsStore)
        secrets.create_secret(Name=f"existing-{number}", SecretString="s")

    def create_and_read(index: int) -> None:
        for number in range(5):
            secrets.create_secret(Name=f"new-{index}-{number}", SecretString="s")
            secrets.get_secret_value(SecretId=f"existing-{EXISTING_SECRETS - 1}")

    assert together(create_and_read) == []
    listed = secrets.get_paginator("list_secrets").paginate().build_full_result()["SecretList"]
    assert len(listed) == EXISTING_SECRETS + WRITERS * 5


def test_in_process_moto_lets_one_conditional_writer_through(aws: None) -> None:
    only_one_conditional_write_wins(boto3.client("dynamodb"))


def test_in_process_moto_secrets_answer_while_others_are_created(aws: None) -> None:
    secrets_answer_while_others_are_created(boto3.client("secretsmanager"))


def test_the_local_stacks_aws_lets_one_conditional_writer_through(embedded_aws: str) -> None:
    only_one_conditional_write_wins(boto3.client("dynamodb", endpoint_url=embedded_aws))


def test_the_local_stacks_aws_secrets_answer_while_others_are_created(embedded_aws: str) -> None:
    secrets_answer_while_others_are_created(boto3.client("secretsmanager", endpoint_url=embedded_aws))


def test_a_long_poll_does_not_hold_up_other_requests(embedded_aws: str) -> None:
    """moto sleeps inside an SQS ReceiveMessage for up to WaitTimeSeconds: only DynamoDB and Secrets
    Manager take turns, or every function's request would wait for `make run`'s queue pollers."""
    sqs = boto3.client("sqs", endpoint_url=embedded_aws)
    queue_url = sqs.create_queue(QueueName="empty")["QueueUrl"]
    polling = threading.Thread(
        target=sqs.receive_message, kwargs={"QueueUrl": queue_url, "WaitTimeSeconds": 5}
    )
    polling.start()
    secrets = boto3.client("secretsmanager", endpoint_url=embedded_aws)
    secrets.create_secret(Name="during-the-poll", SecretString="s")
    dynamodb = boto3.client("dynamodb", endpoint_url=embedded_aws)
    dynamodb.list_tables()
    assert polling.is_alive()  # both answered while the poll was still waiting
    polling.join()

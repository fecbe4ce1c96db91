"""`make run` end to end for registration and rotation, over HTTP and boto3 only: a CMDB event on
the bus becomes a JumpServer asset and a secret; a rotation moves the staging labels and expires
the token from two rotations back; a delete retires it."""

import json
import time

import pytest
import requests

from dbguard_testkit.samples import cmdb_change

pytestmark = pytest.mark.integration
SECRET_ID = "dbguard/db/billing-qhb-01"


def put_change(stack, detail):
    entry = {"EventBusName": "cmdb", "Source": "cmdb", "DetailType": "Database Instance Changed"}
    result = stack.aws_client("events").put_events(Entries=[{**entry, "Detail": json.dumps(detail)}])
    assert result["FailedEntryCount"] == 0


def jumpserver_state(stack):
    return requests.get(f"{stack.jumpserver_url}/_sim/state", timeout=10).json()


def eventually(check, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def secret(stack, stage="AWSCURRENT"):
    value = stack.aws_client("secretsmanager").get_secret_value(SecretId=SECRET_ID, VersionStage=stage)
    return json.loads(value["SecretString"])


def live_token_ids(stack):
    return {token["id"] for token in jumpserver_state(stack)["tokens"] if not token["is_expired"]}


def test_cmdb_event_to_asset_and_secret_then_rotation_then_retirement(running_stack):
    stack = running_stack
    put_change(stack, cmdb_change(version=1))
    assert eventually(lambda: [a for a in jumpserver_state(stack)["assets"] if a["name"] == "billing-qhb-01"])
    first = eventually(lambda: _try(lambda: secret(stack)))
    assert first["host"] == "127.0.0.1"
    assert first["token_id"] in live_token_ids(stack)

    lambda_client = stack.aws_client("lambda", endpoint_url=stack.lambda_endpoint)
    function = "dbguard-local-token-rotation"
    for _ in range(2):
        answer = lambda_client.invoke(
            FunctionName=function, Payload=json.dumps({"rotate": ["billing-qhb-01"], "force": True})
        )
        assert json.loads(answer["Payload"].read())["rotated"] == 1
    current, previous = secret(stack), secret(stack, "AWSPREVIOUS")
    live = live_token_ids(stack)
    assert {current["token_id"], previous["token_id"]} <= live
    assert first["token_id"] not in live  # expired by the second rotation

    put_change(stack, cmdb_change("delete", 2))
    assert eventually(lambda: not any(a["is_active"] for a in jumpserver_state(stack)["assets"]))
    assert eventually(lambda: not live_token_ids(stack))
    described = stack.aws_client("secretsmanager").describe_secret(SecretId=SECRET_ID)
    assert "DeletedDate" in described


def _try(call):
    try:
        return call()
    except Exception:
        return None

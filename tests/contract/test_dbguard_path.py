"""dbguard's whole JumpServer path, through its own functions (template environment, moto for AWS):
CMDB create -> asset, account, permission -> first secret whose token JumpServer accepts ->
rotations keep exactly current and previous valid -> CMDB delete expires them. Against the simulator
in `make test`, and unchanged against real servers in `make contract-real`."""

from __future__ import annotations

import json

import boto3
import pytest

from dbguard_testkit.samples import cmdb_change, credentials_secret_arn, eventbridge_event, sqs_event
from tests.contract.target import REAL_PLATFORM_IDS, REAL_REQUESTS_PER_MINUTE, JumpServerTarget, unique

DATABASE_USER = "contract_app"


@pytest.fixture
def template_parameters(jumpserver_target: JumpServerTarget) -> dict[str, str]:
    return {
        "JumpServerUrl": jumpserver_target.url,
        "JumpServerProxyHost": "jms-proxy.example.com",
        "JumpServerPlatformIds": REAL_PLATFORM_IDS,
        "JumpServerRequestsPerMinute": REAL_REQUESTS_PER_MINUTE,
    }


@pytest.fixture
def functions(stack, load_function, jumpserver_target):
    if not jumpserver_target.reusable_tokens():  # what dbguard then says: test_jumpserver_rules, unit tests
        pytest.skip("this JumpServer has CONNECTION_TOKEN_REUSABLE off: dbguard refuses to run on it")
    secretsmanager = boto3.client("secretsmanager")
    secretsmanager.put_secret_value(
        SecretId=stack.physical_ids["JumpServerCredentialsSecret"],
        SecretString=json.dumps({"private_token": jumpserver_target.token}),
    )
    # The steps Secrets Manager runs come back to this same function, whose request budget (paced for a
    # real server's throttle) already holds their reservation: they may wait most of a minute for it
    rotation = load_function(
        "TokenRotationFunction", ROTATION_STEP_WAIT_SECONDS="100", ROTATION_DEADLINE_MARGIN_SECONDS="110"
    )
    return load_function("CmdbSyncFunction"), rotation


def test_register_rotate_and_retire_a_database(jumpserver_target: JumpServerTarget, functions):
    cmdb_sync, rotation = functions
    name, cmdb_id = unique("contract-db"), unique("cmdb")
    _credentials(name, cmdb_id)
    instance = {"id": cmdb_id, "name": name, "credentialsSecretArn": credentials_secret_arn(f"cmdb/{name}")}

    assert _apply(cmdb_sync, cmdb_change(version=1, **instance)) == {"batchItemFailures": []}
    asset = jumpserver_target.database(name)
    [account] = jumpserver_target.accounts(asset["id"])
    assert (account["name"], account["username"]) == ("dbguard", DATABASE_USER)
    permission = jumpserver_target.permission(f"dbguard-{asset['id']}")
    assert set(permission["accounts"]) == {"@SPEC", DATABASE_USER}
    first = _secret(name)
    assert first["username"] == first["token_id"]
    assert jumpserver_target.token_is_valid(first["token_id"])

    for _ in range(2):
        assert rotation.invoke({"rotate": [name], "force": True})["results"] == [
            {"name": name, "status": "rotated"}
        ]
    current, previous = _secret(name), _secret(name, "AWSPREVIOUS")
    assert jumpserver_target.token_is_valid(current["token_id"])
    assert jumpserver_target.token_is_valid(previous["token_id"])
    assert jumpserver_target.token_detail(first["token_id"]).status_code == 404  # expired by dbguard

    assert _apply(cmdb_sync, cmdb_change("delete", version=2, id=cmdb_id)) == {"batchItemFailures": []}
    assert jumpserver_target.database(name)["is_active"] is False
    for token_id in (current["token_id"], previous["token_id"]):
        assert jumpserver_target.token_detail(token_id).status_code == 404
    described = boto3.client("secretsmanager").describe_secret(SecretId=f"dbguard/db/{name}")
    assert "DeletedDate" in described


def test_a_permission_saved_by_an_earlier_version_is_repaired(jumpserver_target, functions, stack):
    """Earlier dbguard named the account (not its username) and kept no username in the registry:
    the next rotation, and the next CMDB update, correct the permission in place."""
    cmdb_sync, rotation = functions
    name, cmdb_id = unique("contract-db"), unique("cmdb")
    _credentials(name, cmdb_id)
    instance = {"id": cmdb_id, "name": name, "credentialsSecretArn": credentials_secret_arn(f"cmdb/{name}")}
    _apply(cmdb_sync, cmdb_change(version=1, **instance))
    permission_name = f"dbguard-{jumpserver_target.database(name)['id']}"

    _break_permission(jumpserver_target, permission_name)
    boto3.client("dynamodb").update_item(
        TableName=stack.physical_ids["RegistryTable"], Key={"cmdbId": {"S": cmdb_id}},
        UpdateExpression="REMOVE account.username",
    )  # fmt: skip
    assert rotation.invoke({"rotate": [name], "force": True})["results"] == [
        {"name": name, "status": "rotated"}
    ]
    assert set(jumpserver_target.permission(permission_name)["accounts"]) == {"@SPEC", DATABASE_USER}

    _break_permission(jumpserver_target, permission_name)
    token_before = _secret(name)["token_id"]
    assert _apply(cmdb_sync, cmdb_change(version=2, **instance)) == {"batchItemFailures": []}
    assert set(jumpserver_target.permission(permission_name)["accounts"]) == {"@SPEC", DATABASE_USER}
    assert _secret(name)["token_id"] == token_before  # a repaired permission needs no new secret
    assert jumpserver_target.token_is_valid(token_before)


def test_a_renamed_database_s_secret_is_never_handed_to_a_newcomer(jumpserver_target, functions, stack):
    """Rename, then reuse the name: JumpServer has no asset of the old name any more, so dbguard's own
    ownership rule is what refuses the newcomer, before it changes anything in JumpServer."""
    cmdb_sync, rotation = functions
    name, first, newcomer = unique("contract-db"), unique("cmdb"), unique("cmdb")
    _credentials(name, f"{first} {newcomer}")
    instance = {"name": name, "credentialsSecretArn": credentials_secret_arn(f"cmdb/{name}")}
    _apply(cmdb_sync, cmdb_change(version=1, id=first, **instance))
    renamed = f"{name}-renamed"
    assert _apply(cmdb_sync, cmdb_change(version=2, id=first, **{**instance, "name": renamed})) == {
        "batchItemFailures": []
    }
    kept = _secret(name)
    assert kept["jumpserver_asset_id"] == jumpserver_target.database(renamed)["id"]

    assert _apply(
        cmdb_sync, cmdb_change(version=1, id=newcomer, host="10.7.7.7", database="crm", **instance)
    ) == {"batchItemFailures": []}  # not retried: dead-lettered at once
    assert f"belongs to the database {first}" in _dead_letter_reasons(stack)[0]
    assert jumpserver_target.database(name) is None  # the newcomer got no asset
    assert _secret(name) == kept
    assert jumpserver_target.token_is_valid(kept["token_id"])
    assert rotation.invoke({"rotate": [renamed], "force": True})["results"] == [
        {"name": renamed, "status": "rotated"}
    ]
    assert _secret(name)["jumpserver_asset_id"] == kept["jumpserver_asset_id"]


def test_a_secret_dbguard_did_not_make_is_never_touched(jumpserver_target, functions, stack):
    cmdb_sync, _ = functions
    name, cmdb_id = unique("contract-db"), unique("cmdb")
    _credentials(name, cmdb_id)
    foreign = json.dumps({"username": "app", "password": unique("pw")})
    boto3.client("secretsmanager").create_secret(Name=f"dbguard/db/{name}", SecretString=foreign)
    instance = {"id": cmdb_id, "name": name, "credentialsSecretArn": credentials_secret_arn(f"cmdb/{name}")}

    assert _apply(cmdb_sync, cmdb_change(version=1, **instance)) == {"batchItemFailures": []}

    assert "was not created by dbguard" in _dead_letter_reasons(stack)[0]
    assert jumpserver_target.database(name) is None
    value = boto3.client("secretsmanager").get_secret_value(SecretId=f"dbguard/db/{name}")
    assert value["SecretString"] == foreign


def _dead_letter_reasons(stack) -> list[str]:
    messages = (
        boto3.client("sqs")
        .receive_message(
            QueueUrl=stack.physical_ids["CmdbDeadLetterQueue"],
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
        )
        .get("Messages", [])
    )
    return [message["MessageAttributes"]["reason"]["StringValue"] for message in messages]


def _break_permission(jumpserver_target: JumpServerTarget, name: str) -> None:
    permission = jumpserver_target.permission(name)
    jumpserver_target.ok(
        "PATCH", f"/api/v1/perms/asset-permissions/{permission['id']}/", {"accounts": ["dbguard"]}
    )


def _credentials(name: str, cmdb_ids: str) -> None:
    boto3.client("secretsmanager").create_secret(
        Name=f"cmdb/{name}",
        SecretString=json.dumps({"username": DATABASE_USER, "password": unique("pw")}),
        Tags=[{"Key": "dbguard:cmdb-ids", "Value": cmdb_ids}],
    )


def _apply(cmdb_sync, detail: dict) -> dict:
    return cmdb_sync.invoke(sqs_event(json.dumps(eventbridge_event(detail))))


def _secret(name: str, stage: str = "AWSCURRENT") -> dict:
    value = boto3.client("secretsmanager").get_secret_value(SecretId=f"dbguard/db/{name}", VersionStage=stage)
    return json.loads(value["SecretString"])

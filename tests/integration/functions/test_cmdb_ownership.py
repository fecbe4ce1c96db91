"""cmdb_sync against the JumpServer simulator (v3 and v4) and moto: a database's secret is its own for
life, a refused change changes nothing and goes to the dead-letter queue at once with its reason,
and no secret's value reaches a log line, the registry or a dead letter. Each test names the finding
of the hostile-CMDB review it pins (F1-F8); tests/unit/cmdb/test_ownership.py holds them on fakes."""

from __future__ import annotations

import json

import boto3
import pytest

from dbguard_testkit.samples import cmdb_change, credentials_secret_arn, eventbridge_event, sqs_event
from tests.world import batch, register, template_parameters, world  # noqa: F401 - fixtures

MARKER = "Marker-Pa55word-51d0"


@pytest.fixture
def cmdb_sync(world, load_function):
    return load_function("CmdbSyncFunction")


def reasons(world) -> list[str]:
    return [message["MessageAttributes"]["reason"]["StringValue"] for message in world.dead_letters()]


def jumpserver_state(world) -> str:
    """Every asset, account, permission and token as the simulator holds them (values included)."""
    store = world.jumpserver.store
    return repr((store.assets, store.accounts, store.permissions, store.tokens))


def secret_values(name: str) -> list[str]:
    secretsmanager = boto3.client("secretsmanager")
    versions = secretsmanager.list_secret_version_ids(SecretId=name)["Versions"]
    return sorted(
        secretsmanager.get_secret_value(SecretId=name, VersionId=v["VersionId"])["SecretString"]
        for v in versions
    )


def test_f1_rename_then_reuse_refuses_the_newcomer_and_keeps_the_secret_with_its_database(world, cmdb_sync):
    register(cmdb_sync, version=1)
    register(cmdb_sync, version=2, name="billing-qhb-renamed")
    mine = world.secret("billing-qhb-01")
    before = (jumpserver_state(world), secret_values("dbguard/db/billing-qhb-01"))

    answer = register(cmdb_sync, version=1, id="cmdb-0", host="10.7.7.7", database="crm")

    assert answer == {"batchItemFailures": []}  # not retried: a person must act
    [reason] = reasons(world)
    assert "dbguard/db/billing-qhb-01 belongs to the database cmdb-4711" in reason
    assert (jumpserver_state(world), secret_values("dbguard/db/billing-qhb-01")) == before
    assert world.asset("billing-qhb-01") is None  # the newcomer got no asset either
    assert "name" not in world.registry_item("cmdb-0")
    assert (mine["jumpserver_asset_id"], mine["dbname"]) == (world.asset("billing-qhb-renamed").id, "billing")
    assert mine["token_id"] in world.live_tokens()


def test_f1_a_foreign_secret_at_the_name_is_never_touched(world, cmdb_sync):
    boto3.client("secretsmanager").create_secret(
        Name="dbguard/db/billing-qhb-01", SecretString=json.dumps({"note": "someone else's"})
    )
    before = secret_values("dbguard/db/billing-qhb-01")

    assert register(cmdb_sync, version=1) == {"batchItemFailures": []}

    [reason] = reasons(world)
    assert "was not created by dbguard" in reason
    assert secret_values("dbguard/db/billing-qhb-01") == before
    assert "DeletedDate" not in world.describe_secret()
    assert world.asset() is None


def test_f1_hard_delete_then_reuse_never_restores_the_retired_database_s_secret(
    world, load_function, monkeypatch
):
    cmdb_sync = load_function("CmdbSyncFunction", HARD_DELETE_ASSETS="true")
    register(cmdb_sync, version=1)
    cmdb_sync.invoke(batch(cmdb_change("delete", 2)))
    before = world.describe_secret()["VersionIdsToStages"]

    register(cmdb_sync, version=1, id="cmdb-0")

    [reason] = reasons(world)
    assert "belongs to the database cmdb-4711" in reason
    assert "DeletedDate" in world.describe_secret()  # still on its way out, not restored
    assert world.describe_secret()["VersionIdsToStages"] == before  # and no version written


def test_f2_credentials_of_another_username_leave_the_address_as_it_was(world, cmdb_sync):
    register(cmdb_sync, version=1)
    boto3.client("secretsmanager").create_secret(
        Name="cmdb/other-user",
        SecretString=json.dumps({"username": "someone_else", "password": "pw-2"}),
        Tags=[{"Key": "dbguard:cmdb-ids", "Value": "cmdb-4711"}],
    )
    before = jumpserver_state(world)

    answer = register(
        cmdb_sync, version=2, host="10.9.9.9", port=6432,
        credentialsSecretArn=credentials_secret_arn("cmdb/other-user"),
    )  # fmt: skip

    assert answer == {"batchItemFailures": []}
    assert "another user name" in reasons(world)[0]
    assert jumpserver_state(world) == before
    assert world.asset().address == "10.1.2.3"
    assert world.registry_item()["version"]["N"] == "1"


def test_f3_a_secret_s_value_reaches_no_log_registry_or_dead_letter(world, cmdb_sync, capsys):
    register(cmdb_sync, version=1)
    boto3.client("secretsmanager").put_secret_value(
        SecretId="dbguard/db/billing-qhb-01",
        SecretString=json.dumps({"username": "app", "password": MARKER}),  # edited by hand
    )

    register(cmdb_sync, version=2, labels={"team": "core"})  # reads the secret: does it still fit?
    register(cmdb_sync, version=3, labels={"team": "ops"})

    [first, second] = reasons(world)
    assert "does not hold a dbguard database secret" in first
    text = capsys.readouterr().out + first + second + json.dumps(world.registry_item())
    assert "SecretUnreadable" in text
    assert MARKER not in text


@pytest.mark.parametrize("status_of_the_fault", ["400", "502"])
def test_f4_jumpserver_s_refusals_go_to_the_dlq_at_once_its_outages_are_retried(
    world, cmdb_sync, status_of_the_fault
):
    register(cmdb_sync, version=1)
    world.jumpserver.faults(**{"reject_next" if status_of_the_fault == "400" else "fail_next": 1000})
    event = batch(cmdb_change(version=2, host="10.9.9.9"))

    answer = cmdb_sync.invoke(event)

    if status_of_the_fault == "400":
        assert answer == {"batchItemFailures": []}
        assert "JumpServer answered HTTP 400" in reasons(world)[0]
    else:
        assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
        assert reasons(world) == []


def test_f4_a_platform_id_jumpserver_does_not_know_is_dead_lettered_at_once(world, load_function):
    """v3 hides PostgreSQL, so its id comes from JumpServerPlatformIds; a wrong one is refused (400)."""
    if world.jumpserver.version != "v3":
        pytest.skip("v4 lists PostgreSQL: the configured id is not used")
    cmdb_sync = load_function("CmdbSyncFunction", JUMPSERVER_PLATFORM_IDS='{"PostgreSQL": 999}')

    assert register(cmdb_sync, version=1) == {"batchItemFailures": []}

    assert 'Invalid pk \\"999\\"' in json.dumps(reasons(world)) or "999" in reasons(world)[0]
    assert world.asset() is None


@pytest.mark.parametrize(
    "labels",
    [{"dbguard\x1f": "cmdb-0"}, {"dbguard\x1c": "cmdb-0"}, {"team": "bill\x00ing"}],
    ids=["\\x1f", "\\x1c", "NUL"],
)
def test_f5_f8_labels_jumpserver_would_change_or_refuse_are_refused_first(world, cmdb_sync, labels):
    assert register(cmdb_sync, version=1, labels=labels) == {"batchItemFailures": []}
    assert "label" in reasons(world)[0]
    assert world.asset() is None


def test_f8_a_nul_in_the_database_name_is_refused_before_jumpserver(world, cmdb_sync):
    assert register(cmdb_sync, version=1, database="bill\x00ing") == {"batchItemFailures": []}
    assert "instance.database" in reasons(world)[0]
    assert world.jumpserver.requests == []  # JumpServer was not even asked


def test_f6_a_version_far_ahead_is_refused_and_the_database_stays_reachable(world, cmdb_sync):
    register(cmdb_sync, version=1)
    assert register(cmdb_sync, version=10**15, host="10.9.9.9") == {"batchItemFailures": []}
    assert "ahead of the current time" in reasons(world)[0]
    assert cmdb_sync.invoke(batch(cmdb_change("delete", 2))) == {"batchItemFailures": []}
    assert world.registry_item()["status"]["S"] == "retired"


@pytest.mark.parametrize(
    "detail",
    [cmdb_change(port=True), {**cmdb_change(), "version": "1_000"}],
    ids=["port true", "version 1_000"],
)
def test_f7_integers_are_not_coerced(world, cmdb_sync, detail):
    event = sqs_event(json.dumps(eventbridge_event(detail)))
    assert cmdb_sync.invoke(event) == {"batchItemFailures": []}
    assert "valid integer" in reasons(world)[0]
    assert world.asset() is None

"""cmdb_sync against the JumpServer simulator (v3 and v4) and moto."""

import json
import time

import boto3
import pytest

from dbguard_local.functions import LambdaContext
from dbguard_testkit.samples import CMDB_DATABASE_PASSWORD, cmdb_change, eventbridge_event, sqs_event
from tests.conftest import JMS_PRIVATE_TOKEN
from tests.world import PROXY_HOST, batch, register, template_parameters, world  # noqa: F401 - fixtures


@pytest.fixture
def cmdb_sync(world, load_function):
    return load_function("CmdbSyncFunction")


def test_an_upsert_registers_the_database_and_issues_its_first_secret(world, cmdb_sync):
    assert register(cmdb_sync, version=17) == {"batchItemFailures": []}
    asset = world.asset()
    assert (asset.address, asset.protocols, asset.db_name) == (
        "10.1.2.3",
        [{"name": "postgresql", "port": 5432}],
        "billing",
    )
    assert "dbguard:cmdb-4711" in asset.labels
    assert "team:billing" in asset.labels
    assert world.jumpserver.store.nodes[asset.node_ids[0]].full_value.endswith("/dbguard/prod")
    account = next(a for a in world.jumpserver.store.accounts.values() if a.asset_id == asset.id)
    assert (account.name, account.username, account.secret) == (
        "dbguard",
        "billing_app",
        CMDB_DATABASE_PASSWORD,
    )
    secret = world.secret()
    token = world.jumpserver.store.tokens[secret["token_id"]]
    assert secret["username"] == token.id
    assert secret["password"] == token.value
    assert (secret["host"], secret["port"], secret["dbname"], secret["engine"]) == (
        PROXY_HOST,
        54320,
        "billing",
        "postgres",
    )
    assert token.expires - token.created > 86400  # made reusable, not the one-time 300 s
    item = world.registry_item()
    assert item["version"]["N"] == "17"
    assert item["status"]["S"] == "active"
    assert item["assetId"]["S"] == asset.id
    assert item["currentTokenId"]["S"] == token.id


def test_an_update_moves_the_asset_and_keeps_the_secret(world, cmdb_sync):
    register(cmdb_sync, version=17)
    before = world.secret()
    assert register(cmdb_sync, version=18, host="10.1.2.4", port=5433) == {"batchItemFailures": []}
    asset = world.asset()
    assert (asset.address, asset.protocols) == ("10.1.2.4", [{"name": "postgresql", "port": 5433}])
    assert world.secret() == before  # applications still connect to the proxy with the same token
    assert len(world.jumpserver.store.assets) == 1


def test_a_database_rename_in_the_cmdb_reissues_the_secret(world, cmdb_sync):
    register(cmdb_sync, version=17)
    before = world.secret()
    register(cmdb_sync, version=18, database="billing_v2")
    after = world.secret()
    assert after["dbname"] == "billing_v2"
    assert after["token_id"] != before["token_id"]
    assert world.secret(stage="AWSPREVIOUS")["token_id"] == before["token_id"]


def test_a_delete_retires_everything(world, cmdb_sync):
    register(cmdb_sync, version=17)
    token_id = world.secret()["token_id"]
    assert cmdb_sync.invoke(batch(cmdb_change("delete", 19))) == {"batchItemFailures": []}
    assert world.asset().is_active is False  # kept for JumpServer's session history
    assert token_id not in world.live_tokens()
    assert "DeletedDate" in world.describe_secret()
    item = world.registry_item()
    assert (item["status"]["S"], item["version"]["N"]) == ("retired", "19")
    assert "currentTokenId" not in item
    assert "dueKey" not in item


def test_an_upsert_after_a_delete_brings_the_database_back(world, cmdb_sync):
    register(cmdb_sync, version=17)
    cmdb_sync.invoke(batch(cmdb_change("delete", 19)))
    register(cmdb_sync, version=20)
    assert world.asset().is_active is True
    assert "DeletedDate" not in world.describe_secret()
    assert world.secret()["token_id"] in world.live_tokens()


def test_replayed_and_stale_events_change_nothing(world, cmdb_sync):
    register(cmdb_sync, version=17)
    state = (dict(world.jumpserver.store.tokens), world.secret(), world.registry_item()["version"])
    requests_before = len(world.jumpserver.requests)
    result = cmdb_sync.invoke(batch(cmdb_change(version=17), cmdb_change(version=16, host="10.6.6.6")))
    assert result == {"batchItemFailures": []}
    assert (dict(world.jumpserver.store.tokens), world.secret(), world.registry_item()["version"]) == state
    assert world.asset().address == "10.1.2.3"
    assert len(world.jumpserver.requests) == requests_before  # not even a look at JumpServer


def test_out_of_order_in_one_batch_keeps_the_newest(world, cmdb_sync):
    result = cmdb_sync.invoke(batch(cmdb_change(version=18, host="10.1.2.4"), cmdb_change(version=17)))
    assert result == {"batchItemFailures": []}
    assert world.asset().address == "10.1.2.4"
    assert world.registry_item()["version"]["N"] == "18"


def test_a_delete_before_any_upsert_makes_older_upserts_stale(world, cmdb_sync):
    cmdb_sync.invoke(batch(cmdb_change("delete", 5)))
    register(cmdb_sync, version=4)
    assert world.asset() is None


def test_a_name_taken_by_an_unmanaged_asset_is_refused_not_taken_over(world, cmdb_sync):
    world.jumpserver.store.ensure_path("/x")
    body = {
        "name": "billing-qhb-01",
        "address": "192.0.2.1",
        "platform": 17 if world.jumpserver.version == "v4" else 18,
    }
    world.jumpserver.api.create_asset(type("R", (), {"body": body, "now": 0.0})())
    assert register(cmdb_sync, version=17) == {"batchItemFailures": []}  # not retried: a person must act
    assert world.asset().address == "192.0.2.1"
    (letter,) = world.dead_letters()
    assert "does not manage" in letter["MessageAttributes"]["reason"]["StringValue"]
    assert "name" not in world.registry_item()


def test_jumpserver_down_is_retried_and_leaves_nothing_half_written(world, cmdb_sync):
    world.jumpserver.faults(fail_next=1000)
    event = batch(cmdb_change(version=17))
    assert cmdb_sync.invoke(event) == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]
    }
    assert "name" not in world.registry_item()
    assert "version" not in world.registry_item()
    assert not world.dead_letters()  # SQS moves it after CmdbMaxReceiveCount receives
    world.jumpserver.faults(fail_next=0)
    assert cmdb_sync.invoke(event) == {"batchItemFailures": []}
    assert world.registry_item()["version"]["N"] == "17"


def test_an_invalid_event_goes_to_the_dlq_and_the_batch_goes_on(world, cmdb_sync):
    oversized = cmdb_change(version=3, id="cmdb-big", labels={f"k{i}": "v" * 60 for i in range(32)})
    oversized["instance"]["notes"] = "x" * 70_000
    event = sqs_event(
        "not json",
        json.dumps(eventbridge_event({**cmdb_change(version=2), "version": "two"})),
        json.dumps(eventbridge_event(oversized)),
        json.dumps(eventbridge_event(cmdb_change(version=17))),
    )
    assert cmdb_sync.invoke(event) == {"batchItemFailures": []}
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in world.dead_letters())
    assert len(reasons) == 3
    assert any("not JSON" in r for r in reasons)
    assert any("version" in r for r in reasons)
    assert any("bytes" in r for r in reasons)
    assert world.registry_item()["version"]["N"] == "17"


def test_an_unknown_engine_or_missing_credentials_are_rejected_with_a_reason(world, cmdb_sync):
    register(cmdb_sync, version=1, id="cmdb-1", name="mongo-01", engine="mongodb")
    register(cmdb_sync, version=1, id="cmdb-2", name="nocreds-01", credentialsSecretArn=None)
    reasons = [m["MessageAttributes"]["reason"]["StringValue"] for m in world.dead_letters()]
    assert any("engine map" in r for r in reasons)
    assert any("credentialsSecretArn" in r for r in reasons)


def test_a_credentials_secret_not_bound_to_the_database_is_never_read(world, cmdb_sync):
    """Whoever may put a CMDB event must not point a database at another database's secret."""
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(
        Name="cmdb/other-db", SecretString=json.dumps({"username": "u", "password": "p"}),
        Tags=[{"Key": "dbguard:cmdb-ids", "Value": "cmdb-other"}],
    )  # fmt: skip
    stolen = {"credentialsSecretArn": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:cmdb/other-db"}
    register(cmdb_sync, version=1, id="cmdb-1", name="thief-01", **stolen)
    [message] = world.dead_letters()
    assert "is not bound to cmdb-1" in message["MessageAttributes"]["reason"]["StringValue"]
    assert world.asset("thief-01") is None  # checked before anything is changed
    assert "name" not in world.registry_item("cmdb-1")


def test_changes_not_started_near_the_deadline_are_left_to_sqs(world, cmdb_sync):
    """Paced JumpServer calls must not run a change into the timeout half-way."""
    context = LambdaContext(cmdb_sync.spec, "eu-central-1", "123456789012")
    context._deadline = time.monotonic() + 5  # 5 s left of the invocation
    answer = cmdb_sync.module.lambda_handler(batch(cmdb_change(version=1)), context)
    assert len(answer["batchItemFailures"]) == 1  # SQS redelivers it
    assert world.asset() is None
    assert not world.dead_letters()
    assert register(cmdb_sync, version=1) == {"batchItemFailures": []}  # the redelivery applies it


def test_credentials_and_tokens_never_reach_the_logs(world, cmdb_sync, capsys):
    register(cmdb_sync, version=17)
    world.jumpserver.faults(fail_next=1000)
    register(cmdb_sync, version=18, host="10.1.2.9")
    output = capsys.readouterr()
    text = output.out + output.err
    assert "CMDB change" in text
    for secret in (CMDB_DATABASE_PASSWORD, JMS_PRIVATE_TOKEN, world.secret()["password"]):
        assert secret not in text


def test_the_rule_queue_and_dlq_deliver_as_deployed(world, load_function, monkeypatch):
    """EventBridge rule -> SQS -> cmdb_sync (the local event source), then SQS's redrive to the DLQ."""
    cmdb_sync = load_function("CmdbSyncFunction", JUMPSERVER_MAX_RETRIES="0")  # each receive fails fast
    from dbguard_local import event_sources
    from dbguard_local.functions import function_specs

    monkeypatch.setattr(event_sources, "LOCAL_RETRY_SECONDS", 0)
    spec = function_specs(world.stack)["CmdbSyncFunction"]
    poller = event_sources.SqsPoller(
        spec,
        spec.events["CmdbChanges"]["Properties"],
        boto3.client("sqs"),
        lambda _, e: cmdb_sync.invoke(e),
        print,
    )
    events = boto3.client("events")
    entry = {"EventBusName": "cmdb", "Source": "cmdb", "DetailType": "Database Instance Changed"}
    events.put_events(Entries=[{**entry, "Detail": json.dumps(cmdb_change(version=17))}])
    assert poller.poll_once(wait_seconds=0) == 1
    assert world.asset() is not None
    world.jumpserver.faults(fail_next=10_000)
    events.put_events(Entries=[{**entry, "Detail": json.dumps(cmdb_change(version=18, host="10.1.2.4"))}])
    receives = 0
    while poller.poll_once(wait_seconds=0):
        receives += 1
    assert receives == 5  # CmdbMaxReceiveCount
    (letter,) = world.dead_letters()
    assert json.loads(letter["Body"])["detail"]["version"] == 18
    (announced,) = world.operator_events()  # at the receive after which SQS dead-letters it, not before
    assert announced["detail-type"] == "Database Registration Failed"
    assert announced["source"] == "dbguard.cmdb"
    assert announced["detail"]["attempts"] == 5
    assert announced["detail"]["version"] == 18
    assert announced["detail"]["needsOperator"] is False


def test_a_change_dead_lettered_at_once_is_announced_once_with_its_reason(world, cmdb_sync):
    register(cmdb_sync, version=1, id="cmdb-1", name="mongo-01", engine="mongodb")
    register(cmdb_sync, version=1, id="cmdb-1", name="mongo-01", engine="mongodb")  # SQS delivered it twice
    first, second = world.operator_events()
    assert first["detail"]["cmdbId"] == second["detail"]["cmdbId"] == "cmdb-1"
    assert first["detail"]["errorClass"] == "RejectedChange"
    assert "engine map" in first["detail"]["error"]
    assert first["detail"]["attempts"] == 1


def test_reusable_tokens_disabled_holds_back_the_batch_until_an_operator_fixes_it(world, cmdb_sync):
    """A stock JumpServer refuses every change the same way: one attempt, one event naming the fix, the
    rest of the batch dead-lettered unattempted (no JumpServer request), all redriven after the fix."""
    world.jumpserver.store.reusable_allowed = False  # JumpServer's default
    changes = [cmdb_change(version=1, id=f"cmdb-{n}", name=f"db-{n}") for n in (0, 1, 2)]
    assert cmdb_sync.invoke(batch(*changes)) == {"batchItemFailures": []}
    letters = world.dead_letters()
    reasons = [letter["MessageAttributes"]["reason"]["StringValue"] for letter in letters]
    assert len(reasons) == 3
    assert sum("fix: set CONNECTION_TOKEN_REUSABLE=true" in reason for reason in reasons) == 3
    assert sum(reason.startswith("not attempted") for reason in reasons) == 2
    assert world.asset("db-1") is None
    assert world.asset("db-2") is None
    (announced,) = world.operator_events()
    assert announced["detail"]["cmdbId"] == "cmdb-0"
    assert announced["detail"]["needsOperator"] is True
    assert announced["detail"]["heldBack"] == 2
    assert "CONNECTION_TOKEN_REUSABLE=true" in announced["detail"]["fix"]
    world.jumpserver.store.reusable_allowed = True  # the fix; then the documented redrive
    redriven = sqs_event(*(letter["Body"] for letter in letters))
    assert cmdb_sync.invoke(redriven) == {"batchItemFailures": []}
    assert {world.secret(f"db-{n}")["engine"] for n in (0, 1, 2)} == {"postgres"}
    assert world.operator_events() == []


def test_credentials_jumpserver_refuses_stop_the_batch_at_the_first_change(world, cmdb_sync):
    boto3.client("secretsmanager").put_secret_value(
        SecretId=world.stack.physical_ids["JumpServerCredentialsSecret"],
        SecretString=json.dumps({"private_token": "a0" * 20}),
    )
    before = len(world.jumpserver.requests)
    changes = [cmdb_change(version=1, id=f"cmdb-{n}", name=f"db-{n}") for n in (1, 2, 3)]
    assert cmdb_sync.invoke(batch(*changes)) == {"batchItemFailures": []}
    refused = world.jumpserver.requests[before:]
    assert refused
    assert all(request.status == 401 for request in refused)
    assert len(refused) <= 2  # the first request, and once more with the credentials read again
    (announced,) = world.operator_events()
    assert announced["detail"]["errorClass"] == "JumpServerAuthError"
    assert "JumpServerCredentialsSecretArn" in announced["detail"]["fix"]
    assert len(world.dead_letters()) == 3


@pytest.mark.parametrize(
    "name", ["upsert", "update-address", "delete", "replayed-and-stale", "invalid-in-batch"]
)
def test_sample_events_replay(world, cmdb_sync, name):
    from tests.integration.functions.test_sample_events import CMDB_SYNC, load

    result = cmdb_sync.invoke(load(f"cmdb_sync/{name}.json"))
    assert len(result["batchItemFailures"]) == CMDB_SYNC[f"{name}.json"]

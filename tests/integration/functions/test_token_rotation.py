"""token_rotation against the JumpServer simulator (v3 and v4) and moto."""

import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import boto3
import pytest

from dbguard_testkit.samples import (
    CMDB_DATABASE_PASSWORD,
    custom_resource_request,
    rotation_step,
    scheduled_event,
)
from tests.conftest import JMS_PRIVATE_TOKEN
from tests.world import register, template_parameters, world  # noqa: F401 - fixtures

NAMES = ("billing-qhb-01", "orders-qhb-01", "crm-qhb-01")


@pytest.fixture
def cmdb_sync(world, load_function):
    return load_function("CmdbSyncFunction")


@pytest.fixture
def databases(world, cmdb_sync):
    """Three registered databases, each with its first secret (as cmdb_sync leaves them)."""
    for index, name in enumerate(NAMES):
        assert register(cmdb_sync, version=1, id=f"cmdb-{index}", name=name) == {"batchItemFailures": []}
    return NAMES


@pytest.fixture
def rotation(world, load_function):
    # rotations back to back: the interval rule (ConsumerCacheSeconds) has tests of its own below
    return load_function("TokenRotationFunction", JUMPSERVER_MAX_RETRIES="1", CONSUMER_CACHE_SECONDS="0")


def rotate(rotation, *names):
    return rotation.invoke({"rotate": list(names)})


def statuses(result):
    return {item["name"]: item["status"] for item in result["results"]}


def test_a_rotation_promotes_a_new_token_and_keeps_the_previous_valid(world, databases, rotation):
    first = world.secret()
    assert statuses(rotate(rotation, "billing-qhb-01")) == {"billing-qhb-01": "rotated"}
    current, previous = world.secret(), world.secret(stage="AWSPREVIOUS")
    assert previous == first  # an application that cached the first secret ...
    assert {current["token_id"], previous["token_id"]} <= world.live_tokens()  # ... still connects
    assert "AWSPENDING" not in json.dumps(world.describe_secret()["VersionIdsToStages"])
    token = world.jumpserver.store.tokens[current["token_id"]]
    assert (current["username"], current["password"]) == (token.id, token.value)
    item = world.registry_item("cmdb-0")
    assert item["currentTokenId"]["S"] == current["token_id"]
    assert item["previousTokenId"]["S"] == first["token_id"]


def test_the_second_rotation_expires_the_token_from_two_rotations_back(world, databases, rotation):
    first = world.secret()["token_id"]
    rotate(rotation, "billing-qhb-01")
    second = world.secret()["token_id"]
    result = rotate(rotation, "billing-qhb-01")
    third = world.secret()["token_id"]
    assert first not in world.live_tokens()
    assert {second, third} <= world.live_tokens()
    assert world.secret(stage="AWSPREVIOUS")["token_id"] == second
    assert result["rotated"] == 1


def test_the_current_value_copied_under_awspending_is_not_resumed(world, databases, rotation):
    """What RotateSecret with RotateImmediately=false leaves while it tests the configuration (and
    what a forced rotation right after a registration found): the current value under AWSPENDING."""
    rotate(rotation, "billing-qhb-01")
    previous, current = world.secret(stage="AWSPREVIOUS"), world.secret()
    boto3.client("secretsmanager").put_secret_value(
        SecretId="dbguard/db/billing-qhb-01", SecretString=json.dumps(current), VersionStages=["AWSPENDING"]
    )
    assert statuses(rotation.invoke({"rotate": ["billing-qhb-01"], "force": True})) == {
        "billing-qhb-01": "rotated"
    }
    assert world.secret(stage="AWSPREVIOUS")["token_id"] == current["token_id"]  # not the copy twice
    assert world.secret()["token_id"] not in (previous["token_id"], current["token_id"])
    assert {current["token_id"], world.secret()["token_id"]} <= world.live_tokens()


def test_the_schedule_rotates_only_what_is_due_most_urgent_first(world, databases, rotation):
    dynamodb = boto3.client("dynamodb")
    for cmdb_id, due_in in (("cmdb-1", 86400), ("cmdb-2", 3600)):
        dynamodb.update_item(
            TableName=world.registry_table,
            Key={"cmdbId": {"S": cmdb_id}},
            UpdateExpression="SET dueAt = :at",
            ExpressionAttributeValues={":at": {"N": str(int(time.time()) + due_in)}},
        )
    result = rotation.invoke(scheduled_event())
    assert [item["name"] for item in result["results"]] == ["crm-qhb-01", "orders-qhb-01"]
    assert (result["rotated"], result["not_due"]) == (2, 1)


def test_jumpserver_down_changes_no_secret_and_reports_failure(world, databases, rotation, capsys):
    before = {name: world.secret(name) for name in NAMES}
    world.jumpserver.faults(fail_next=10_000)
    result = rotate(rotation, *NAMES)
    assert set(statuses(result).values()) == {"failed"}
    assert {name: world.secret(name) for name in NAMES} == before
    assert '"RotationFailed"' in capsys.readouterr().out  # the EMF metric the alarm watches
    world.jumpserver.faults(fail_next=0)
    assert set(statuses(rotate(rotation, *NAMES)).values()) == {"rotated"}


def test_a_429_storm_changes_no_secret(world, databases, rotation):
    before = world.secret()
    world.jumpserver.faults(throttle_next=10_000, retry_after_seconds=0)
    assert statuses(rotate(rotation, "billing-qhb-01")) == {"billing-qhb-01": "failed"}
    assert world.secret() == before  # the good secret was not overwritten
    stages = world.describe_secret()["VersionIdsToStages"]
    # what AWS leaves after a failed createSecret: AWSPENDING on an empty version, settled next run
    [pending] = [version for version, labels in stages.items() if "AWSPENDING" in labels]
    secretsmanager = boto3.client("secretsmanager")
    with pytest.raises(secretsmanager.exceptions.ResourceNotFoundException):
        secretsmanager.get_secret_value(SecretId="dbguard/db/billing-qhb-01", VersionId=pending)
    world.jumpserver.faults(throttle_next=0)
    assert statuses(rotate(rotation, "billing-qhb-01")) == {"billing-qhb-01": "rotated"}
    assert "AWSPENDING" not in json.dumps(world.describe_secret()["VersionIdsToStages"])


def test_one_failing_database_never_stops_the_others(world, databases, rotation):
    orders = world.asset("orders-qhb-01")
    for account in [a for a in world.jumpserver.store.accounts.values() if a.asset_id == orders.id]:
        del world.jumpserver.store.accounts[account.id]  # removed by hand in JumpServer
    result = rotate(rotation, *NAMES, "no-such-db")
    assert statuses(result) == {
        "billing-qhb-01": "rotated",
        "orders-qhb-01": "failed",
        "crm-qhb-01": "rotated",
        "no-such-db": "not_found",
    }
    failed = next(item for item in result["results"] if item["status"] == "failed")
    assert "perm_account_invalid" in failed["error"]
    assert "perm_account_invalid" in world.registry_item("cmdb-1")["lastRotationError"]["S"]


def test_jumpserver_sees_at_most_rotation_concurrency_requests(world, databases, load_function):
    rotation = load_function("TokenRotationFunction", ROTATION_CONCURRENCY="1", CONSUMER_CACHE_SECONDS="0")
    world.jumpserver.faults(latency_seconds=0.05)  # every request overlaps whatever else is sent

    assert rotate(rotation, *NAMES)["rotated"] == 3

    assert world.jumpserver.most_in_flight == 1
    # a rotation's steps run in invocations of their own (their own connection pools, in production),
    # one request at a time: the bound is how many rotations are in progress
    assert rotation.module.cold_start.parts().runner.databases_at_once == 1


class EndingContext:
    """A Lambda context whose deadline arrives after `calls` checks."""

    def __init__(self, calls):
        self.calls = calls
        self.function_name, self.memory_limit_in_mb = "token_rotation", 512
        self.invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:token_rotation"
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self):
        self.calls -= 1
        return 300_000 if self.calls >= 0 else 1_000


def test_the_deadline_stops_new_work_and_reports_what_is_left(world, databases, rotation):
    result = rotation.module.lambda_handler({"rotate": "all"}, EndingContext(calls=1))
    assert result["rotated"] == 1
    assert len(result["deferred"]) == 2
    later = rotation.invoke({"rotate": result["deferred"]})
    assert later["rotated"] == 2


def test_a_finish_step_that_died_after_the_promotion_is_recorded_by_the_waiting_run(
    world, databases, load_function, monkeypatch
):
    """Secrets Manager's finishSecret moved AWSCURRENT, then its Lambda runtime died before the registry
    was told: the run waiting on it settles that promotion itself (no second token), as the next run
    would."""
    rotation = load_function(
        "TokenRotationFunction", CONSUMER_CACHE_SECONDS="0", ROTATION_STEP_WAIT_SECONDS="8"
    )
    before = world.secret()
    secrets_class = sys.modules["dbguard.adapters.secrets_store"].DatabaseSecrets  # the loaded function's
    promote = secrets_class.promote
    died = []

    def promote_then_die(*args, **kwargs):
        promote(*args, **kwargs)
        died.append(True)
        raise SystemExit("the Lambda runtime died")  # not an Exception: no clean-up runs

    monkeypatch.setattr(secrets_class, "promote", promote_then_die)
    assert statuses(rotate(rotation, "billing-qhb-01")) == {"billing-qhb-01": "rotated"}
    assert died == [True]
    current, previous = world.secret(), world.secret(stage="AWSPREVIOUS")
    assert previous["token_id"] == before["token_id"]
    registry = world.registry_item("cmdb-0")
    assert "pendingTokenId" not in registry
    assert registry["currentTokenId"]["S"] == current["token_id"]
    issued = {t.id for t in world.jumpserver.store.tokens.values() if t.asset_id == world.asset().id}
    assert world.live_tokens() & issued == {current["token_id"], previous["token_id"]}  # nothing leaked


def test_secrets_manager_rotation_steps(world, databases, rotation):
    arn = world.describe_secret()["ARN"]
    before = world.secret()
    version = str(uuid.uuid4())
    for step in ("createSecret", "createSecret", "setSecret", "testSecret", "finishSecret", "finishSecret"):
        rotation.invoke(rotation_step(step, arn, version))  # each step may be retried
    assert world.describe_secret()["VersionIdsToStages"][version] == ["AWSCURRENT"]
    assert world.secret(stage="AWSPREVIOUS") == before
    assert world.secret()["token_id"] in world.live_tokens()
    with pytest.raises(Exception, match="does not exist"):
        rotation.invoke(rotation_step("createSecret", arn.replace("billing", "nobody"), str(uuid.uuid4())))


class _CloudFormation(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_PUT(self):
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def cloudformation():
    _CloudFormation.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CloudFormation)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/response", _CloudFormation.received
    server.shutdown()


def test_settings_that_leave_a_gap_fail_the_deployment(world, load_function, cloudformation):
    url, received = cloudformation
    good = load_function("TokenRotationFunction")
    good.invoke(custom_resource_request("Create", url))
    bad = load_function(
        "TokenRotationFunction", ROTATION_SCHEDULE="rate(7 days)", ROTATION_WINDOW_SECONDS="86400"
    )
    bad.invoke(custom_resource_request("Update", url))
    bad.invoke(custom_resource_request("Delete", url))
    assert [answer["Status"] for answer in received] == ["SUCCESS", "FAILED", "SUCCESS"]
    assert "RotationWindowSeconds (86400) must be at least" in received[1]["Reason"]


def test_a_server_refusing_reusable_tokens_fails_the_deployment_and_says_what_to_set(
    world, databases, load_function, cloudformation
):
    url, received = cloudformation
    world.jumpserver.store.reusable_allowed = False  # JumpServer's default
    rotation = load_function("TokenRotationFunction", CONSUMER_CACHE_SECONDS="0")
    rotation.invoke(custom_resource_request("Create", url))
    assert received[-1]["Status"] == "FAILED"
    assert "CONNECTION_TOKEN_REUSABLE=true" in received[-1]["Reason"]
    before, live = world.secret(), world.live_tokens()
    [result] = rotate(rotation, "billing-qhb-01")["results"]
    assert result["status"] == "failed"
    assert "set CONNECTION_TOKEN_REUSABLE=true" in result["error"]
    assert world.secret() == before
    assert world.live_tokens() == live  # the refused new token was expired at once


def test_a_server_without_a_db_proxy_warns_or_by_require_db_proxy_fails_the_deployment(
    world, load_function, cloudformation
):
    """A community edition issues db_guide tokens that nothing accepts: v3.10 proxies MySQL, MariaDB
    and Redis only, v4.1+ nothing (the stock simulator); a licensed one every engine of the map."""
    url, received = cloudformation
    rotation = load_function("TokenRotationFunction")
    rotation.invoke(custom_resource_request("Create", url, RequireDbProxy="warn"))
    rotation.invoke(custom_resource_request("Update", url, RequireDbProxy="fail"))
    world.jumpserver.store.xpack_license_valid = True
    rotation.invoke(custom_resource_request("Update", url, RequireDbProxy="fail"))
    warned, failed, licensed = received
    assert (warned["Status"], failed["Status"], licensed["Status"]) == ("SUCCESS", "FAILED", "SUCCESS")
    warning = warned["Data"]["Warnings"]
    assert "XPACK_LICENSE_IS_VALID is false" in warning
    assert warning in failed["Reason"]
    if world.jumpserver.version == "v3":  # v3.10 community: MySQL, MariaDB and Redis only
        assert (
            "for oracle (engines oracle); postgresql (engines postgres, postgresql, qhb); sqlserver"
            in warning
        )
        assert "list db_guide (Magnus) for mariadb, mysql, redis only." in warning
    else:
        assert warning.startswith("JumpServer offers no DB proxy at all")
    assert licensed["Data"] == {"Warnings": "none"}


def test_a_function_that_cannot_start_still_answers_cloudformation(world, load_function, cloudformation):
    """Otherwise the stack waits an hour for the custom resource."""
    url, received = cloudformation
    broken = load_function("TokenRotationFunction", JUMPSERVER_URL="http://jumpserver.example.com")
    broken.invoke(custom_resource_request("Create", url))
    assert received[-1]["Status"] == "FAILED"
    assert "token_rotation cannot start" in received[-1]["Reason"]
    assert "AllowInsecureJumpServer" in received[-1]["Reason"]
    broken.invoke(custom_resource_request("Delete", url))  # a failed stack can still be deleted
    assert received[-1]["Status"] == "SUCCESS"
    with pytest.raises(Exception, match="JUMPSERVER_URL uses http://"):
        broken.invoke({"rotate": "all"})


def test_an_unreachable_jumpserver_does_not_block_the_deployment(world, load_function, cloudformation):
    url, received = cloudformation
    world.jumpserver.faults(fail_next=100)
    load_function("TokenRotationFunction", JUMPSERVER_MAX_RETRIES="0").invoke(
        custom_resource_request("Create", url)
    )
    assert received[-1]["Status"] == "SUCCESS"


def test_rotations_closer_than_the_consumer_cache_are_refused_unless_forced(world, databases, load_function):
    rotation = load_function("TokenRotationFunction")  # ConsumerCacheSeconds: the default hour
    first = world.secret()  # issued by the registration a moment ago
    [refused] = rotate(rotation, "billing-qhb-01")["results"]
    assert refused["status"] == "too_soon"
    assert "ConsumerCacheSeconds (3600 s)" in refused["error"]
    assert world.secret() == first
    forced = rotation.invoke({"rotate": ["billing-qhb-01"], "force": True})
    assert statuses(forced) == {"billing-qhb-01": "rotated"}
    with pytest.raises(Exception, match="ConsumerCacheSeconds"):  # rotate-secret has no force
        rotation.invoke(rotation_step("createSecret", "dbguard/db/billing-qhb-01", str(uuid.uuid4())))
    assert world.secret(stage="AWSPREVIOUS")["token_id"] == first["token_id"]  # still valid for caches
    assert first["token_id"] in world.live_tokens()


def test_bad_invocations_get_a_clear_error_and_change_nothing(world, databases, rotation):
    before = world.secret()
    oversized = {"rotate": [f"db-{i}" for i in range(1001)]}
    forced_loosely = ({"rotate": ["billing-qhb-01"], "force": value} for value in ("yes", 1, "true"))
    bad = (
        {"rotate": []},
        {"rotate": "everything"},
        {"rotate": [""]},
        {"hello": 1},
        oversized,
        *forced_loosely,
    )
    for event in bad:
        with pytest.raises(Exception, match=r"invalid on-demand rotation request|unrecognised event"):
            rotation.invoke(event)
    assert world.secret() == before


def test_logs_carry_no_secret(world, databases, rotation, capsys):
    rotate(rotation, *NAMES)
    world.jumpserver.faults(fail_next=10_000)
    rotate(rotation, "billing-qhb-01")
    text = capsys.readouterr()
    output = text.out + text.err
    assert '"rotated"' in output
    secrets = [JMS_PRIVATE_TOKEN, CMDB_DATABASE_PASSWORD]
    secrets += [token.value for token in world.jumpserver.store.tokens.values()]
    for secret in secrets:
        assert secret not in output


def test_sample_events_replay(world, databases, rotation, cloudformation):
    from tests.integration.functions.test_sample_events import TOKEN_ROTATION, load

    url, received = cloudformation
    assert rotation.invoke(load("token_rotation/scheduled.json"))["not_due"] == len(NAMES)
    assert statuses(rotation.invoke(load("token_rotation/on-demand-named.json"))) == {
        "billing-qhb-01": "rotated"
    }
    assert rotation.invoke(load("token_rotation/on-demand-all.json"))["rotated"] == len(NAMES)
    assert statuses(rotation.invoke(load("token_rotation/on-demand-forced.json"))) == {
        "billing-qhb-01": "rotated"
    }
    rotation.invoke({**load("token_rotation/settings-check.json"), "ResponseURL": url})
    assert received[-1]["Status"] == "SUCCESS"
    for step in (
        "createSecret",
        "testSecret",
        "finishSecret",
    ):  # the sample names a secret of another account
        with pytest.raises(Exception, match="does not exist"):
            rotation.invoke(load(f"token_rotation/secretsmanager-{step}.json"))
    assert len(TOKEN_ROTATION) == 9


def test_duplicated_names_rotate_once(world, databases, rotation):
    result = rotate(rotation, "billing-qhb-01", "billing-qhb-01")
    assert [item["name"] for item in result["results"]] == ["billing-qhb-01"]


def test_secrets_manager_steps_out_of_order_change_nothing(world, databases, rotation):
    arn = world.describe_secret()["ARN"]
    before = world.describe_secret()["VersionIdsToStages"]
    version = str(uuid.uuid4())
    for step in ("finishSecret", "testSecret"):  # before createSecret: there is no such version
        with pytest.raises(Exception):  # noqa: B017, PT011 - Secrets Manager's own error for the version
            rotation.invoke(rotation_step(step, arn, version))
    assert world.describe_secret()["VersionIdsToStages"] == before


def test_the_token_check_tells_an_operator_when_a_leaked_token_is_revoked(world, databases, rotation, capsys):
    leaked = world.secret()["token_id"]

    def check():
        return rotation.invoke({"checkToken": leaked, "database": "billing-qhb-01"})

    assert (check()["labels"], check()["validInJumpServer"], check()["status"]) == (
        ["AWSCURRENT"],
        True,
        "live",
    )
    for _ in range(2):  # docs/operations.md: rotate twice, forced
        assert statuses(rotation.invoke({"rotate": ["billing-qhb-01"], "force": True})) == {
            "billing-qhb-01": "rotated"
        }
    assert check() == {
        "database": "billing-qhb-01", "tokenId": leaked, "labels": [], "validInJumpServer": False,
        "status": "revoked",
    }  # fmt: skip
    with pytest.raises(Exception, match="invalid token check"):
        rotation.invoke({"checkToken": "bad id with spaces", "database": "billing-qhb-01"})
    assert world.secret()["password"] not in capsys.readouterr().out

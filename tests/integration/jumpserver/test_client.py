"""The JumpServer client over real HTTP against the simulator, v3 and v4."""

import json
import logging
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from pydantic import SecretStr

from dbguard.adapters.jumpserver import transport as transport_module
from dbguard.adapters.jumpserver.auth import CredentialsSource
from dbguard.adapters.jumpserver.client import JumpServerClient
from dbguard.adapters.jumpserver.errors import (
    JumpServerAuthError,
    JumpServerConflict,
    JumpServerOutcomeUnknown,
    JumpServerPermissionMissing,
    JumpServerRejected,
    JumpServerThrottled,
    JumpServerUnavailable,
    ReusableTokensDisabled,
    error_from_response,
)
from dbguard.adapters.jumpserver.transport import RequestBudget, RequestTally, Transport
from dbguard.cmdb.inventory import AccountTemplate, AssetProtocol, DatabaseAssetFields, DatabaseCredentials
from dbguard.errors import Unretryable
from dbguard.jumpserver import AlreadyExists, DbProxyOffer
from tests.conftest import JMS_PRIVATE_TOKEN

DATABASES = "/api/v1/assets/databases/"
ACCOUNT_PASSWORD = "acct-Pa55-must-not-leak-41"
MAGNUS_V4 = {"mysql", "postgresql", "oracle", "mariadb", "redis", "sqlserver", "mongodb"}
ACCESS_KEY = ("3f1c0d6e-1b2a-4c5d-8e9f-0a1b2c3d4e5f", "access-secret-must-not-leak-77")


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def credentials_secret(aws):
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="jms", SecretString=json.dumps({"private_token": JMS_PRIVATE_TOKEN}))[
        "ARN"
    ]
    return client, arn


def make_client(sim, credentials_secret, sleeps, *, timeout=2.0, retries=3, **options):
    client, arn = credentials_secret
    transport = Transport(
        sim.url, CredentialsSource(client, arn, 300), org_id="00000000-0000-0000-0000-000000000002",
        timeout_seconds=timeout, max_retries=retries, sleep=sleeps,
    )  # fmt: skip
    platform_ids = {"PostgreSQL": 20} if sim.version == "v3" else {}
    return JumpServerClient(transport, platform_ids=platform_ids, **options)


@pytest.fixture
def client(jumpserver_sim, credentials_secret, sleeps):
    return make_client(jumpserver_sim, credentials_secret, sleeps)


def register(client, name="billing-qhb-01"):
    asset = client.create_database(DatabaseAssetFields(
        name=name, address="10.1.2.3", db_name="billing", is_active=True,
        platform=client.platform_id("PostgreSQL"), nodes=[client.ensure_node("dbguard/prod")],
        protocols=[AssetProtocol(name="postgresql", port=5432)], labels={"dbguard": "c-1", "team": "b"},
    ))  # fmt: skip
    account = client.ensure_account(asset.id, "dbguard", credentials("svc", ACCOUNT_PASSWORD))
    return asset, account


def credentials(username, password):
    return DatabaseCredentials(username=username, password=SecretStr(password))


def test_version_is_detected(client, jumpserver_sim):
    assert client.version == jumpserver_sim.version


def test_the_whole_registration_and_token_lifecycle(client, jumpserver_sim, jms_clock):
    asset, account = register(client)
    [created] = [r.body for r in jumpserver_sim.requests if (r.method, r.path) == ("POST", DATABASES)]
    assert created == {
        "name": "billing-qhb-01", "address": "10.1.2.3", "db_name": "billing", "is_active": True,
        "platform": client.platform_id("PostgreSQL"), "nodes": [client.ensure_node("dbguard/prod")],
        "protocols": [{"name": "postgresql", "port": 5432}], "labels": ["dbguard:c-1", "team:b"],
    }  # fmt: skip
    assert asset.labels == {"dbguard": "c-1", "team": "b"}  # both label formats read the same
    assert client.find_database("billing-qhb-01").id == asset.id
    with pytest.raises(JumpServerPermissionMissing):
        client.create_connection_token(asset.id, account, "postgresql")
    client.ensure_permission(asset.id, account)
    client.ensure_permission(asset.id, account)  # idempotent
    assert len(jumpserver_sim.store.permissions) == 1
    token = client.create_connection_token(asset.id, account, "postgresql")
    sent = jumpserver_sim.requests[-1].body["account"]
    assert sent == (account.name if jumpserver_sim.version == "v3" else account.id)
    reusable = client.make_token_reusable(token)
    assert reusable.value.get_secret_value() == token.value.get_secret_value()
    assert reusable.is_reusable
    assert reusable.date_expired > token.date_expired
    assert jumpserver_sim.requests[-1].path.endswith("/reuse/")  # the answer says it all: no read-back
    jms_clock.advance(3600)  # past the one-time 300 s
    assert client.get_connection_token(token.id).is_expired is False
    client.expire_connection_token(token.id)
    assert client.get_connection_token(token.id) is None
    client.expire_connection_token(token.id)  # already expired: done, not an error
    assert client.get_connection_token("not-a-uuid") is None


def test_updates_reach_jumpserver_and_accounts_are_not_duplicated(client, jumpserver_sim):
    asset, account = register(client)
    client.update_database(
        asset.id,
        DatabaseAssetFields(address="10.9.9.9", protocols=[AssetProtocol(name="postgresql", port=6432)]),
    )
    patched = jumpserver_sim.requests[-1].body  # only what is set: JumpServer keeps the rest
    assert patched == {"address": "10.9.9.9", "protocols": [{"name": "postgresql", "port": 6432}]}
    stored = jumpserver_sim.store.assets[asset.id]
    assert (stored.address, stored.protocols) == ("10.9.9.9", [{"name": "postgresql", "port": 6432}])
    again = client.ensure_account(asset.id, "dbguard", credentials("svc", "new-" + ACCOUNT_PASSWORD))
    assert again == account
    assert len(jumpserver_sim.store.accounts) == 1
    assert jumpserver_sim.store.accounts[account.id].secret == "new-" + ACCOUNT_PASSWORD
    client.deactivate_database(asset.id)
    assert jumpserver_sim.store.assets[asset.id].is_active is False
    client.delete_database(asset.id)
    assert client.find_database("billing-qhb-01") is None


def test_validation_errors_carry_the_fields(client):
    register(client)
    with pytest.raises(JumpServerRejected) as raised:
        register(client)
    assert raised.value.fields == {"name": ["This field must be unique."]}


def test_pagination_goes_past_the_200_row_cut(client, jumpserver_sim):
    asset, _ = register(client)
    for index in range(230):
        client.ensure_account(asset.id, f"extra-{index}", credentials(f"user-{index}", ACCOUNT_PASSWORD))
    # the account on the second page is found, not created a second time
    client.ensure_account(asset.id, "extra-229", credentials("user-229", ACCOUNT_PASSWORD))
    assert len(jumpserver_sim.store.accounts) == 231


def test_v3_hidden_postgresql_needs_the_configured_id(make_jumpserver_sim, credentials_secret, sleeps):
    client = make_client(make_jumpserver_sim("v3"), credentials_secret, sleeps)
    client._platform_ids = {}
    with pytest.raises(Exception, match="JumpServerPlatformIds"):
        client.platform_id("PostgreSQL")


def test_admin_tokens_skip_the_permission_on_v4(make_jumpserver_sim, credentials_secret, sleeps):
    sim = make_jumpserver_sim("v4")
    client = make_client(sim, credentials_secret, sleeps, use_admin_tokens=True)
    asset, account = register(client)
    client.ensure_permission(asset.id, account)
    assert not sim.store.permissions
    assert client.create_connection_token(asset.id, account, "postgresql").id


def test_429_waits_for_retry_after_then_succeeds(client, jumpserver_sim, sleeps):
    jumpserver_sim.faults(throttle_next=2, retry_after_seconds=3)
    assert client.current_user_id() == jumpserver_sim.service_user.id
    assert len(sleeps) == 2
    assert all(3 <= delay <= 3.75 for delay in sleeps)


def test_a_429_storm_gives_up_with_throttled(client, jumpserver_sim):
    jumpserver_sim.faults(throttle_next=100)
    with pytest.raises(JumpServerThrottled):
        client.current_user_id()


def test_5xx_is_retried_on_reads_but_a_post_is_never_repeated(client, jumpserver_sim, sleeps):
    asset, account = register(client)
    client.ensure_permission(asset.id, account)
    jumpserver_sim.faults(fail_next=2)
    assert client.find_database(asset.name).id == asset.id
    assert len(sleeps) == 2
    assert client.version  # detected before the failure is armed
    jumpserver_sim.faults(fail_next=1)
    tokens_before = len(jumpserver_sim.store.tokens)
    with pytest.raises(JumpServerOutcomeUnknown):
        client.create_connection_token(asset.id, account, "postgresql")
    assert len(jumpserver_sim.store.tokens) == tokens_before


def test_timeouts_are_retried_then_reported(make_jumpserver_sim, credentials_secret, sleeps):
    sim = make_jumpserver_sim("v4")
    client = make_client(sim, credentials_secret, sleeps, timeout=0.3, retries=1)
    sim.faults(hang_next=1, hang_seconds=1.0)
    assert client.current_user_id() == sim.service_user.id  # the second attempt answers
    sim.faults(hang_next=5, hang_seconds=1.0)
    client._user_id = None
    with pytest.raises(JumpServerUnavailable):
        client.current_user_id()


def test_a_rotated_credential_is_read_again_on_401(make_jumpserver_sim, credentials_secret, sleeps):
    sim = make_jumpserver_sim("v3", private_token="old-token-" + "0" * 30)
    secretsmanager, arn = credentials_secret
    secretsmanager.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"private_token": sim.private_token})
    )
    client = make_client(sim, credentials_secret, sleeps)
    client.current_user_id()
    sim.private_token = JMS_PRIVATE_TOKEN  # rotated in JumpServer, then in the secret
    secretsmanager.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"private_token": JMS_PRIVATE_TOKEN})
    )
    client._user_id = None
    assert client.current_user_id() == sim.service_user.id
    sim.private_token = "x" * 40  # and a key nobody updated fails clearly
    client._user_id = None
    with pytest.raises(JumpServerAuthError):
        client.current_user_id()


def test_access_key_signature_auth(make_jumpserver_sim, credentials_secret, sleeps):
    sim = make_jumpserver_sim("v4", private_token=None, access_keys=dict([ACCESS_KEY]))
    secretsmanager, arn = credentials_secret
    document = {"access_key_id": ACCESS_KEY[0], "access_key_secret": ACCESS_KEY[1]}
    secretsmanager.put_secret_value(SecretId=arn, SecretString=json.dumps(document))
    assert make_client(sim, credentials_secret, sleeps).current_user_id() == sim.service_user.id


def test_no_secret_reaches_logs_or_errors(client, jumpserver_sim, caplog, capsys):
    caplog.set_level(logging.INFO)  # botocore's own DEBUG lines show API responses, secrets included
    asset, account = register(client)
    jumpserver_sim.faults(throttle_next=1, fail_next=1)
    client.ensure_permission(asset.id, account)
    token = client.make_token_reusable(client.create_connection_token(asset.id, account, "postgresql"))
    errors = []
    for call in (lambda: register(client), lambda: client.create_connection_token(asset.id, account, "ssh")):
        try:
            call()
        except Exception as error:
            errors.append(str(error))
    captured = capsys.readouterr()
    text = caplog.text + captured.out + captured.err + " ".join(errors) + repr(token)
    for secret in (ACCOUNT_PASSWORD, JMS_PRIVATE_TOKEN, token.value.get_secret_value()):
        assert secret not in text


def test_a_permission_names_the_username_and_a_wrong_one_is_corrected(client, jumpserver_sim):
    asset, account = register(client)
    assert account.username == "svc"
    client.ensure_permission(asset.id, account)
    [permission] = jumpserver_sim.store.permissions.values()
    assert set(permission.accounts) == {"@SPEC", "svc"}
    permission.accounts = ["dbguard"]  # what earlier dbguard versions saved: grants nothing
    with pytest.raises(JumpServerPermissionMissing):
        client.create_connection_token(asset.id, account, "postgresql")
    legacy = account.model_copy(update={"username": None})  # a registry entry without the username
    client.ensure_permission(asset.id, legacy)
    assert set(permission.accounts) == {"@SPEC", "svc"}
    assert len(jumpserver_sim.store.permissions) == 1
    assert client.create_connection_token(asset.id, account, "postgresql").id
    patches = sum(1 for r in jumpserver_sim.requests if r.method == "PATCH" and "perms" in r.path)
    client.ensure_permission(asset.id, account)  # already right: nothing sent
    assert sum(1 for r in jumpserver_sim.requests if r.method == "PATCH" and "perms" in r.path) == patches


def test_a_stock_server_refusing_reusable_tokens_is_named_in_the_error(
    make_jumpserver_sim, credentials_secret, sleeps
):
    sim = make_jumpserver_sim("v4", connection_token_reusable=False)
    client = make_client(sim, credentials_secret, sleeps)
    assert client.reusable_tokens_enabled() is False
    asset, account = register(client)
    client.ensure_permission(asset.id, account)
    token = client.create_connection_token(asset.id, account, "postgresql")
    with pytest.raises(ReusableTokensDisabled, match="set CONNECTION_TOKEN_REUSABLE=true"):
        client.make_token_reusable(token)


@pytest.mark.parametrize(
    ("version", "licensed", "offered"),
    [("v3", False, {"mysql", "mariadb", "redis"}), ("v4", False, set()), ("v4", True, MAGNUS_V4)],
)
def test_the_db_proxy_offer_is_read_from_the_connect_methods(
    make_jumpserver_sim, credentials_secret, sleeps, version, licensed, offered
):
    sim = make_jumpserver_sim(version, xpack_license_is_valid=licensed)
    offer = make_client(sim, credentials_secret, sleeps).db_proxy_offer()
    assert offer == DbProxyOffer(protocols=frozenset(offered), license_valid=licensed, magnus_enabled=True)


def test_version_detection_never_takes_an_outage_for_v3(client, jumpserver_sim):
    jumpserver_sim.faults(fail_next=10)
    with pytest.raises(JumpServerUnavailable):
        _ = client.version


def test_version_detection_uses_a_route_every_v4_9_and_later_has(client, jumpserver_sim):
    assert client.version == jumpserver_sim.version
    assert [r.path for r in jumpserver_sim.requests] == ["/api/v1/assets/directories/?limit=1"]


def test_the_root_node_is_used_as_it_is(client, jumpserver_sim):
    assert client.ensure_node("") == jumpserver_sim.store.root.id
    assert not [r for r in jumpserver_sim.requests if r.method == "POST"]  # "/<root>" alone is a 500


def test_an_account_template_gives_the_account_its_name_and_username(client, jumpserver_sim):
    template_id = jumpserver_sim.add_account_template("tpl-dbguard", "tpl_user", "tpl-secret")
    asset, _ = register(client, name="other-db")
    first = client.ensure_account(asset.id, "dbguard", AccountTemplate(id=template_id))
    again = client.ensure_account(asset.id, "dbguard", AccountTemplate(id=template_id))
    assert (first.name, first.username) == ("tpl-dbguard", "tpl_user")
    assert again == first
    assert sum(1 for a in jumpserver_sim.store.accounts.values() if a.asset_id == asset.id) == 2


def test_the_request_budget_keeps_under_a_stock_v4_throttle(make_jumpserver_sim, credentials_secret):
    clock = FakeClock()
    sim = make_jumpserver_sim("v4", throttle_rate="5/min", clock=clock)
    client, arn = credentials_secret
    transport = Transport(
        sim.url, CredentialsSource(client, arn, 300), org_id="00000000-0000-0000-0000-000000000002",
        timeout_seconds=2, max_retries=0, budget=RequestBudget(5, clock=clock, sleep=clock.advance),
    )  # fmt: skip
    for _ in range(12):  # more than two windows' worth; no 429 with max_retries=0 would pass
        transport.request("GET", "/api/v1/users/profile/")
    assert clock.slept == [60.0, 60.0]  # waited exactly for the window to free a slot


def test_the_tally_counts_every_request_sent_and_the_busiest_minute(
    make_jumpserver_sim, credentials_secret, monkeypatch
):
    """JumpServerRequests and JumpServerBusiestMinute, once per invocation: retries count, as
    JumpServer's throttle counts them; the busiest 60 s is what the budget bounds."""
    emitted: list[tuple[str, float]] = []
    monkeypatch.setattr(transport_module, "emit", lambda metric, value: emitted.append((metric.name, value)))
    clock = FakeClock()
    sim = make_jumpserver_sim("v4", throttle_rate=None, clock=clock)
    client, arn = credentials_secret
    transport = Transport(
        sim.url, CredentialsSource(client, arn, 300), org_id="00000000-0000-0000-0000-000000000002",
        timeout_seconds=2, max_retries=2, sleep=clock.advance, tally=RequestTally(clock=clock),
    )  # fmt: skip
    sim.faults(fail_next=2)  # one request, two retries: three sent
    transport.request("GET", "/api/v1/users/profile/")
    clock.advance(61)
    for _ in range(2):
        transport.request("GET", "/api/v1/users/profile/")
    transport.tally.report()
    transport.request("GET", "/api/v1/users/profile/")  # the next invocation: still within the minute
    transport.tally.report()
    assert emitted == [
        ("JumpServerRequests", 5), ("JumpServerBusiestMinute", 3),
        ("JumpServerRequests", 1), ("JumpServerBusiestMinute", 3),
    ]  # fmt: skip


@pytest.mark.parametrize("bound", [1, 3, 12])  # 12: past requests' default pool of 10 connections
def test_threads_sharing_a_transport_send_at_most_its_bound_at_once(
    make_jumpserver_sim, credentials_secret, bound, caplog
):
    sim = make_jumpserver_sim("v4", throttle_rate=None)
    # long enough for every thread to be waiting on the answer, even on a busy machine (0.05 s was not)
    sim.faults(latency_seconds=0.4)
    client, arn = credentials_secret
    transport = Transport(
        sim.url, CredentialsSource(client, arn, 300), org_id="00000000-0000-0000-0000-000000000002",
        timeout_seconds=5, max_retries=0, max_in_flight=bound,
    )  # fmt: skip
    with ThreadPoolExecutor(max_workers=2 * bound + 2) as pool:
        profile = lambda _: transport.request("GET", "/api/v1/users/profile/")  # noqa: E731
        answers = list(pool.map(profile, range(4 * bound)))

    assert len(answers) == 4 * bound
    assert sim.most_in_flight == bound  # reached, never passed
    assert "Connection pool is full" not in caplog.text  # a kept-alive connection for each slot


class FakeClock:
    def __init__(self):
        self.now, self.slept = 1_000_000.0, []

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_token_like_text_echoed_by_jumpserver_is_cut_from_errors():
    value = "Zk3qP9xLmA2vR7tB"  # 16 letters and digits, as JumpServer's token values
    error = error_from_response(
        400, {"detail": f"Token {value} is not valid", "code": "perm_account_invalid"}, "a token"
    )
    assert value not in str(error)
    assert "<redacted>" in str(error)
    ids = error_from_response(404, {"detail": "asset 8dd1e66b-de3f-4b99-9e7d-f606223969ad gone"}, "x")
    assert "8dd1e66b-de3f-4b99-9e7d-f606223969ad" in str(ids)  # object ids say which object, grant nothing
    fields = error_from_response(400, {"secret": [f"{value} is too short"]}, "an account")
    assert value not in str(fields)


@pytest.mark.parametrize(
    "body",
    [
        {"name": ["This field must be unique."]},  # DRF's text, v3.10.23 and v4.10.16
        {"name": ["Field must be unique"]},  # v4.10.19's English catalogue
        ["Account already exists"],  # v3 do_create without on_invalid
        {"name": ["Account already exists. Field(s): Name, Asset must be unique."]},
        {"non_field_errors": ["The fields name, asset must make a unique set."]},
    ],
)
def test_a_uniqueness_refusal_is_a_conflict_the_caller_can_look_past(body):
    error = error_from_response(400, body, "a create")
    assert isinstance(error, JumpServerConflict)
    assert isinstance(error, Unretryable)  # if looking again finds nothing, retrying will not help
    assert not isinstance(
        error_from_response(400, {"db_name": ["This field may not be blank."]}, "x"), AlreadyExists
    )


def test_creates_whose_object_landed_meanwhile_use_it(client, jumpserver_sim, monkeypatch):
    """A create that hung past the client's timeout may land after the next attempt listed what
    exists: that attempt's own create then conflicts, and looking again finds the object."""
    asset, account = register(client)
    client.ensure_permission(asset.id, account)
    listed_before_it_landed = iter([None])
    account_named, permission_named = client._account_named, client._permission_named
    monkeypatch.setattr(client, "_account_named", lambda *a: next(listed_before_it_landed, account_named(*a)))
    assert client.ensure_account(asset.id, "dbguard", credentials("svc", ACCOUNT_PASSWORD)) == account
    listed_before_it_landed = iter([None])
    monkeypatch.setattr(
        client, "_permission_named", lambda *a: next(listed_before_it_landed, permission_named(*a))
    )
    client.ensure_permission(asset.id, account)
    assert (len(jumpserver_sim.store.accounts), len(jumpserver_sim.store.permissions)) == (1, 1)
    conflicts = [r for r in jumpserver_sim.requests if r.method == "POST" and r.status == 400]
    assert len(conflicts) == 2  # each create was refused by JumpServer's uniqueness rule, then found


def test_an_account_whose_username_another_account_has_is_refused_for_good(client, jumpserver_sim):
    asset, _ = register(client)
    with pytest.raises(JumpServerConflict):  # "svc" is the username of the account "dbguard"
        client.ensure_account(asset.id, "another-name", credentials("svc", ACCOUNT_PASSWORD))

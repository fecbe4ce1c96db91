"""JumpServer rules dbguard relies on, asserted over HTTP: against the simulator in `make test` and,
unchanged, against real v3.10.23 / v4.10.16 servers in `make contract-real`. Each cites the source
it was read from (apps/... at both tags); docs/jumpserver.md has the full audit."""

from __future__ import annotations

import pytest

from tests.conftest import JMS_PRIVATE_TOKEN
from tests.contract.target import JumpServerTarget, unique


@pytest.fixture
def database(jumpserver_target: JumpServerTarget):
    """An asset with one account whose name and username differ, and nothing granted yet."""
    asset = jumpserver_target.new_database()
    account = jumpserver_target.new_account(asset["id"], name=unique("acct"), username=unique("user"))
    yield asset, account
    jumpserver_target.call("DELETE", f"/api/v1/assets/databases/{asset['id']}/")


def test_a_permission_naming_the_account_name_grants_nothing(jumpserver_target, database):
    # perms/utils/asset_perm.py PermAssetDetailUtil.map_alias_to_accounts matches usernames only
    asset, account = database
    jumpserver_target.grant(asset["id"], ["@SPEC", account["name"]])
    refused = jumpserver_target.request_token(asset["id"], account)
    assert refused.status_code == 400
    assert refused.json() == {"code": "perm_account_invalid", "detail": "Account not found"}


@pytest.mark.parametrize("entries", [["@SPEC", "{username}"], ["{username}"], ["@ALL"]])
def test_a_permission_naming_the_username_or_all_grants_the_account(jumpserver_target, database, entries):
    asset, account = database
    jumpserver_target.grant(asset["id"], [entry.format(username=account["username"]) for entry in entries])
    created = jumpserver_target.request_token(asset["id"], account)
    assert created.status_code == 201, created.text
    assert jumpserver_target.token_is_valid(created.json()["id"])


def test_a_permission_that_has_expired_grants_nothing(jumpserver_target, database):
    asset, account = database
    jumpserver_target.grant(
        asset["id"], ["@ALL"], date_start="2020-01-01T00:00:00Z", date_expired="2020-01-02T00:00:00Z"
    )
    assert jumpserver_target.request_token(asset["id"], account).status_code == 400


def test_a_token_names_the_account_by_name_on_v3_and_by_id_on_v4(jumpserver_target, database):
    # accounts/models/account.py Account.alias: the name up to v4.8, str(id) from v4.9.0
    asset, account = database
    jumpserver_target.grant(asset["id"], [account["username"]])
    wrong = dict(account, id=account["name"], name=account["id"])  # the other version's reference
    assert jumpserver_target.request_token(asset["id"], wrong).status_code == 400
    assert jumpserver_target.request_token(asset["id"], account).status_code == 201


def test_the_directories_route_tells_v4_9_and_later_from_older_servers(jumpserver_target):
    # assets/urls/api_urls.py registers `directories` from v4.9.0, when Account.alias became the id
    status = jumpserver_target.call("GET", "/api/v1/assets/directories/", limit=1).status_code
    assert status == (404 if jumpserver_target.version == "v3" else 200)


def test_reuse_follows_the_server_setting_and_expire_ends_the_token(jumpserver_target, database):
    check_reuse_and_expire(jumpserver_target, *database)


def test_a_stock_simulator_refuses_reusable_tokens(make_jumpserver_sim):
    """The simulator's defaults are a stock server's: CONNECTION_TOKEN_REUSABLE off (conf.py)."""
    for version in ("v3", "v4"):
        simulator = make_jumpserver_sim(version, connection_token_reusable=False)
        target = JumpServerTarget(simulator.url, JMS_PRIVATE_TOKEN, version, simulator)
        assert target.reusable_tokens() is False
        asset = target.new_database()
        check_reuse_and_expire(target, asset, target.new_account(asset["id"], "acct", "user"))


def check_reuse_and_expire(jumpserver_target: JumpServerTarget, asset: dict, account: dict) -> None:
    # authentication/api/connection_token.py reuse() and expire(); models ConnectionToken.set_reusable
    jumpserver_target.grant(asset["id"], [account["username"]])
    token = jumpserver_target.request_token(asset["id"], account).json()
    assert 0 < token["expire_time"] <= 300  # one-time, even when created with is_reusable
    reuse = jumpserver_target.call(
        "PATCH", f"/api/v1/authentication/connection-token/{token['id']}/reuse/", {"is_reusable": True}
    )
    if jumpserver_target.reusable_tokens():
        assert reuse.status_code == 200
        assert jumpserver_target.token_detail(token["id"]).json()["expire_time"] > 86400
    else:
        assert reuse.status_code == 400
        assert reuse.json() == ["Reusable connection token is not allowed, global setting not enabled"]
    expired = jumpserver_target.call(
        "PATCH", f"/api/v1/authentication/connection-token/{token['id']}/expire/"
    )
    assert expired.status_code == 204
    assert jumpserver_target.token_detail(token["id"]).status_code == 404


def _new_database_with(jumpserver_target: JumpServerTarget, **fields):
    body = {
        "name": unique("contract-nul"), "address": "127.0.0.2", "platform": jumpserver_target.platform_id(),
        "db_name": "contract", "protocols": [{"name": "postgresql", "port": 5432}], **fields,
    }  # fmt: skip
    return body["name"], jumpserver_target.call("POST", "/api/v1/assets/databases/", body)


@pytest.mark.parametrize("field", ["db_name", "name"])
def test_a_nul_in_a_char_field_is_refused_with_a_400(jumpserver_target, field):
    # rest_framework/fields.py CharField.__init__ adds ProhibitNullCharactersValidator (DRF 3.14.0 at
    # v3.10.23/v4.10.16, 3.16.1 at v4.10.19); db_name and name are CharFields
    name, response = _new_database_with(jumpserver_target, **{field: "contract\x00x"})
    assert response.status_code == 400
    assert response.json() == {field: ["Null characters are not allowed."]}
    # the list's name filter is a CharField too: a NUL in it is refused the same way
    listed = jumpserver_target.call("GET", "/api/v1/assets/databases/", name=name, limit=10, offset=0)
    if field == "name":
        assert (listed.status_code, listed.json()) == (400, {"name": ["Null characters are not allowed."]})
    else:
        assert jumpserver_target.database(name) is None


def test_a_nul_in_a_label_is_refused_and_nothing_is_created(jumpserver_target):
    # no label validation before v4.10.19 (common/serializers/fields.py LabelRelatedField): PostgreSQL
    # refuses the NUL outside DRF's exception handler, a 500; v4.10.19 validates labels, a 400
    name, response = _new_database_with(jumpserver_target, labels=["team:bill\x00ing"])
    assert response.status_code in ((500,) if jumpserver_target.simulator else (400, 500))
    assert jumpserver_target.database(name) is None


def test_v4_strips_label_parts_with_str_strip(jumpserver_target):
    # v4 fields.py LabelRelatedField: [x.strip() for x in data.split(":", 1)]; str.strip() removes
    # \x1c-\x1f too, so "dbguard\x1f" would be stored as dbguard's reserved label (v3 does not strip)
    key = unique("k")
    _, response = _new_database_with(jumpserver_target, labels=[f"{key}\x1f:v\x1c"])
    assert response.status_code == 201, response.text
    [label] = response.json()["labels"]
    if jumpserver_target.version == "v3":
        assert label == f"{key}\x1f:v\x1c"
    else:
        assert (label["name"], label["value"]) == (key, "v")
    jumpserver_target.call("DELETE", f"/api/v1/assets/databases/{response.json()['id']}/")

"""The simulator follows JumpServer's source at v3.10.23 / v4.10.16 (docs/jumpserver.md, "Simulator
audit against JumpServer's source"): one test per rule, through Simulator.answer (authentication,
throttling and routing included) without a socket."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from email.utils import formatdate

import pytest

from jumpserver_sim import Simulator

TOKEN = "0123456789abcdef0123456789abcdef01234567"
ACCESS_KEY = ("5c1d2b1a-7e0f-4a0e-9d7b-2c6e8f1a3b4d", "a-secret-for-the-tests")
HOST = "jms.test:8080"
TOKENS = "/api/v1/authentication/connection-token/"
ACCOUNTS = "/api/v1/accounts/accounts/"
DATABASES = "/api/v1/assets/databases/"
PERMISSIONS = "/api/v1/perms/asset-permissions/"
REUSE_REFUSED = ["Reusable connection token is not allowed, global setting not enabled"]
PERM_INVALID = {"code": "perm_account_invalid", "detail": "Account not found"}


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def simulator(version: str, **options) -> Simulator:
    options.setdefault("clock", Clock())
    options.setdefault("throttle_rate", None)
    return Simulator(version, private_token=TOKEN, access_keys=dict([ACCESS_KEY]), **options)


def ask(sim: Simulator, method: str, path: str, body=None, headers: dict[str, str] | None = None):
    raw = json.dumps(body).encode() if body is not None else b""
    return sim.answer(method, path, {"authorization": f"Token {TOKEN}", "host": HOST, **(headers or {})}, raw)


def pg(sim: Simulator) -> int:
    return {"v3": 20, "v4": 19}[sim.version]


def new_asset(sim: Simulator, name: str = "db-1", accounts=None, **changes) -> dict:
    body = {"name": name, "address": "10.0.0.1", "platform": pg(sim), "db_name": "app"}
    body["accounts"] = accounts if accounts is not None else [
        {"name": "dbguard-svc", "username": "dbguard_svc", "secret": "pw"}
    ]  # fmt: skip
    response = ask(sim, "POST", DATABASES, {**body, **changes})
    assert response.status == 201, response.body
    return response.body


def the_account(sim: Simulator, asset_id: str, name: str = "dbguard-svc") -> dict:
    return next(a for a in ask(sim, "GET", f"{ACCOUNTS}?asset={asset_id}").body if a["name"] == name)


def permit(sim: Simulator, asset_id: str, accounts: list[str], **extra) -> None:
    body = {"name": f"p-{len(sim.store.permissions)}", "users": [sim.service_user.id], "assets": [asset_id]}
    response = ask(sim, "POST", PERMISSIONS, {**body, "accounts": accounts, **extra})
    assert response.status == 201, response.body


def token(sim: Simulator, asset_id: str, account: dict | str, path: str = TOKENS, **extra):
    alias = account if isinstance(account, str) else account["name" if sim.version == "v3" else "id"]
    body = {"asset": asset_id, "account": alias, "protocol": "postgresql", "connect_method": "db_guide"}
    return ask(sim, "POST", path, {**body, **extra})


VERSIONS = pytest.mark.parametrize("version", ["v3", "v4"])


# ------------------------------------------------------------------ F1 permission accounts
@VERSIONS
def test_a_permission_naming_the_account_name_grants_nothing_the_username_grants(version):
    sim = simulator(version)
    asset = new_asset(sim)
    account = the_account(sim, asset["id"])
    permit(sim, asset["id"], ["dbguard-svc"])  # the account's *name*
    refused = token(sim, asset["id"], account)
    assert (refused.status, refused.body) == (400, PERM_INVALID)
    permit(sim, asset["id"], ["dbguard_svc"])  # its *username*
    assert token(sim, asset["id"], account).status == 201


@VERSIONS
@pytest.mark.parametrize(
    ("entries", "granted"),
    [
        (["@ALL"], True),
        (["@SPEC", "dbguard_svc"], True),  # what JumpServer's UI saves for "specified accounts"
        (["@SPEC"], False),
        (["@INPUT"], False),  # a virtual account only, not the real one
    ],
)
def test_permission_aliases(version, entries, granted):
    sim = simulator(version)
    asset = new_asset(sim)
    permit(sim, asset["id"], entries)
    assert token(sim, asset["id"], the_account(sim, asset["id"])).status == (201 if granted else 400)


@VERSIONS
def test_an_excluded_username_is_refused_on_v4_only(version):
    sim = simulator(version)
    asset = new_asset(sim)
    permit(sim, asset["id"], ["@ALL", "!dbguard_svc"])
    assert token(sim, asset["id"], the_account(sim, asset["id"])).status == (400 if version == "v4" else 201)


@VERSIONS
def test_all_grants_neither_virtual_accounts_nor_inactive_ones(version):
    sim = simulator(version)
    asset = new_asset(sim)
    permit(sim, asset["id"], ["@ALL"])
    assert token(sim, asset["id"], "@INPUT").body == PERM_INVALID
    permit(sim, asset["id"], ["@INPUT"])
    assert token(sim, asset["id"], "@INPUT").status == 201
    next(iter(sim.store.accounts.values())).is_active = False
    assert token(sim, asset["id"], the_account(sim, asset["id"])).body == PERM_INVALID


@VERSIONS
@pytest.mark.parametrize(
    "dates",
    [
        {"date_expired": "2020/01/01 00:00:00 +0800"},  # JumpServer's own format
        {"date_expired": "2020-01-01T00:00:00Z"},  # ISO 8601
        {"date_start": "2099-01-01T00:00:00+08:00"},
    ],
)
def test_a_permission_outside_its_dates_is_refused(version, dates):
    sim = simulator(version)
    asset = new_asset(sim)
    permit(sim, asset["id"], ["@ALL"], **dates)
    assert token(sim, asset["id"], the_account(sim, asset["id"])).body == PERM_INVALID


# ------------------------------------------------------------------ F2 account templates
@VERSIONS
def test_an_account_template_is_readable_without_its_secret(version):
    sim = simulator(version)
    template_id = sim.add_account_template("svc-template", "svc_user", "s3cret", privileged=True)
    body = ask(sim, "GET", f"/api/v1/accounts/account-templates/{template_id}/").body
    assert {key: body[key] for key in ("id", "name", "username", "privileged", "is_active")} == {
        "id": template_id, "name": "svc-template", "username": "svc_user", "privileged": True,
        "is_active": True,
    }  # fmt: skip
    assert body["secret_type"] == {"value": "password", "label": "Password"}
    assert "secret" not in body
    assert ("spec_info" in body) == (version == "v4")
    missing = ask(sim, "GET", "/api/v1/accounts/account-templates/7f6c2b1a-7e0f-4a0e-9d7b-2c6e8f1a3b4d/")
    assert (missing.status, missing.body["detail"]) == (404, "AccountTemplate object does not exist.")


@VERSIONS
def test_creating_with_a_template_takes_the_templates_fields(version):
    sim = simulator(version)
    asset = new_asset(sim, accounts=[])
    template_id = sim.add_account_template("svc-template", "svc_user", "s3cret")
    body = {"asset": asset["id"], "template": template_id, "name": "mine", "username": "other", "secret": "x"}
    created = ask(sim, "POST", ACCOUNTS, {**body, "on_invalid": "error"})
    assert created.status == 201
    assert (created.body["name"], created.body["username"]) == ("svc-template", "svc_user")
    assert (created.body["source"]["value"], created.body["source_id"]) == ("template", template_id)
    assert sim.store.accounts[created.body["id"]].secret == "s3cret"
    unknown = ask(sim, "POST", ACCOUNTS, {**body, "template": "7f6c2b1a-7e0f-4a0e-9d7b-2c6e8f1a3b4d"})
    assert (unknown.status, unknown.body) == (400, {"template": "Template not found"})


# ------------------------------------------------------------------ F3 account create
@VERSIONS
def test_account_create_asset_checks(version):
    sim = simulator(version)
    missing = ask(sim, "POST", ACCOUNTS, {"name": "a", "username": "a"})
    assert (missing.status, missing.body) == (400, {"asset": "This field is required."})  # a string
    body = {"asset": "7f6c2b1a-7e0f-4a0e-9d7b-2c6e8f1a3b4d", "name": "a", "username": "a"}
    assert ask(sim, "POST", ACCOUNTS, body).body == {"asset": ["Asset not found"]}


@VERSIONS
def test_account_name_defaults_to_the_username_made_unique(version):
    sim = simulator(version)
    asset = new_asset(sim, accounts=[{"name": "svc", "username": "root"}])
    created = ask(sim, "POST", ACCOUNTS, {"asset": asset["id"], "username": "svc", "secret_type": "ssh_key"})
    assert created.status == 201
    assert created.body["name"].startswith("svc_")
    assert len(created.body["name"]) == 8


@VERSIONS
def test_account_username_is_required_on_v3_only(version):
    sim = simulator(version)
    asset = new_asset(sim, accounts=[])
    response = ask(sim, "POST", ACCOUNTS, {"asset": asset["id"], "name": "no-user"})
    if version == "v3":
        assert (response.status, response.body) == (400, {"username": ["This field is required."]})
    else:
        assert (response.status, response.body["username"]) == (201, "")
    neither = ask(sim, "POST", ACCOUNTS, {"asset": asset["id"]})
    assert neither.body["name"] == ["This field may not be null."]


def test_v3_account_duplicates_follow_on_invalid():
    sim = simulator("v3")
    asset = new_asset(sim)
    body = {"asset": asset["id"], "name": "dbguard-svc", "username": "dbguard_svc", "secret": "new"}
    error = ask(sim, "POST", ACCOUNTS, {**body, "on_invalid": "error"})
    assert (error.status, error.body) == (400, {"non_field_errors": [
        "The fields username, asset, secret_type must make a unique set.",
        "The fields name, asset must make a unique set.",
    ]})  # fmt: skip
    assert ask(sim, "POST", ACCOUNTS, body).body == ["Account already exists"]
    original = the_account(sim, asset["id"])
    skipped = ask(sim, "POST", ACCOUNTS, {**body, "on_invalid": "skip"})
    assert (skipped.status, skipped.body["id"]) == (201, original["id"])
    assert sim.store.accounts[original["id"]].secret == "pw"
    updated = ask(sim, "POST", ACCOUNTS, {**body, "username": "other", "on_invalid": "update"})
    assert (updated.status, updated.body["id"], updated.body["username"]) == (201, original["id"], "other")
    assert sim.store.accounts[original["id"]].secret == "new"


def test_v4_account_duplicates_are_refused_whatever_on_invalid():
    sim = simulator("v4")
    asset = new_asset(sim)
    for policy in ("error", "skip", "update"):
        same_user = {"asset": asset["id"], "name": "x", "username": "dbguard_svc", "on_invalid": policy}
        assert ask(sim, "POST", ACCOUNTS, same_user).body == {
            "username": ["Account already exists. Field(s): Username, Asset, Secret type must be unique."]
        }
    same_name = {"asset": asset["id"], "name": "dbguard-svc", "username": "other", "on_invalid": "skip"}
    assert ask(sim, "POST", ACCOUNTS, same_name).body == {
        "name": ["Account already exists. Field(s): Name, Asset must be unique."]
    }
    other_type = {"asset": asset["id"], "name": "k", "username": "dbguard_svc", "secret_type": "ssh_key"}
    assert ask(sim, "POST", ACCOUNTS, other_type).status == 201  # unique per secret type


# ------------------------------------------------------------------ F4 token validation
@VERSIONS
def test_token_validation_is_drfs_dict_and_a_missing_asset_is_a_500(version):
    sim = simulator(version)
    asset = new_asset(sim)
    fields = ask(sim, "POST", TOKENS, {"asset": asset["id"], "connect_method": ""})
    assert (fields.status, fields.body) == (
        400, {"account": ["This field is required."], "connect_method": ["This field may not be blank."]},
    )  # fmt: skip
    unknown = token(sim, "7f6c2b1a-7e0f-4a0e-9d7b-2c6e8f1a3b4d", "x")
    assert unknown.body == {
        "asset": ['Invalid pk "7f6c2b1a-7e0f-4a0e-9d7b-2c6e8f1a3b4d" - object does not exist.']
    }
    no_asset = ask(sim, "POST", TOKENS, {"account": "x", "connect_method": "db_guide"})
    assert (no_asset.status, no_asset.body) == (500, {"error": "Server internal error"})


# ------------------------------------------------------------------ F5 reuse
@VERSIONS
@pytest.mark.parametrize("body", [{"is_reusable": True}, {"is_reusable": False}, {}])
def test_reuse_is_refused_on_a_stock_simulator(version, body):
    sim = simulator(version)  # CONNECTION_TOKEN_REUSABLE off, as conf.py ships it
    asset = new_asset(sim)
    permit(sim, asset["id"], ["@ALL"])
    created = token(sim, asset["id"], the_account(sim, asset["id"])).body
    refused = ask(sim, "PATCH", f"{TOKENS}{created['id']}/reuse/", body)
    assert (refused.status, refused.body) == (400, REUSE_REFUSED)


@VERSIONS
def test_reuse_false_brings_the_expiry_back_to_created_plus_300(version):
    clock = Clock()
    sim = simulator(version, clock=clock, connection_token_reusable=True)
    asset = new_asset(sim)
    permit(sim, asset["id"], ["@ALL"])
    created = token(sim, asset["id"], the_account(sim, asset["id"])).body
    path = f"{TOKENS}{created['id']}/reuse/"
    assert ask(sim, "PATCH", path, {"is_reusable": True}).body["is_reusable"] is True
    assert sim.store.tokens[created["id"]].expires == clock.now + 30 * 86400
    back = ask(sim, "PATCH", path, {"is_reusable": False}).body
    assert back["is_reusable"] is False
    assert sim.store.tokens[created["id"]].expires == clock.now + 300
    clock.now += 301
    assert ask(sim, "PATCH", path, {"is_reusable": True}).status == 404  # expired at once


# ------------------------------------------------------------------ F6, F7 accounts on PATCH and lists
@VERSIONS
def test_inline_accounts_on_patch_are_ignored(version):
    sim = simulator(version)
    asset = new_asset(sim)
    patched = ask(sim, "PATCH", f"{DATABASES}{asset['id']}/", {"accounts": [{"name": "n", "username": "u"}]})
    assert patched.status == 200
    assert len(sim.store.accounts) == 1


@VERSIONS
def test_accounts_of_an_unknown_asset(version):
    sim = simulator(version)
    response = ask(sim, "GET", f"{ACCOUNTS}?asset=7f6c2b1a-7e0f-4a0e-9d7b-2c6e8f1a3b4d")
    if version == "v4":
        assert (response.status, response.body) == (
            404, {"detail": "Asset object does not exist.", "code": "object_does_not_exist"},
        )  # fmt: skip
    else:
        assert (response.status, response.body) == (200, [])


@VERSIONS
def test_account_list_filters(version):
    sim = simulator(version)
    asset = new_asset(sim, accounts=[{"name": "a", "username": "ua"}, {"name": "b", "username": "ub"}])
    by_name = ask(sim, "GET", f"{ACCOUNTS}?asset_id={asset['id']}&name=a").body
    assert len(by_name) == (1 if version == "v4" else 2)  # v3 has no name filter
    assert [a["name"] for a in ask(sim, "GET", f"{ACCOUNTS}?hostname=b").body] == ["b"]


# ------------------------------------------------------------------ F9 nodes
@VERSIONS
def test_node_edge_cases(version):
    sim = simulator(version)
    root = sim.store.root.value
    for full_value in (f"/{root}", root, "/", "//"):
        assert ask(sim, "POST", "/api/v1/assets/nodes/", {"full_value": full_value}).status == 500
    made = ask(sim, "POST", "/api/v1/assets/nodes/", {"value": "team"})
    assert (made.status, made.body["full_value"]) == (201, f"/{root}/team")
    again = ask(sim, "POST", "/api/v1/assets/nodes/", {"value": "team"})
    assert again.body == {"value": ["The same level node name cannot be the same"]}
    assert ask(sim, "POST", "/api/v1/assets/nodes/", {"value": "a/b"}).body == {
        "value": ["Can't contains: /"]
    }
    deep = ask(sim, "POST", "/api/v1/assets/nodes/", {"full_value": f"/{root}/team/db"})
    assert (deep.status, deep.body["full_value"]) == (201, f"/{root}/team/db")


# ------------------------------------------------------------------ F10 pagination
@VERSIONS
def test_bad_limits_mean_no_pagination_and_links_keep_the_query(version):
    sim = simulator(version)
    for index in range(5):
        new_asset(sim, f"db-{index}", accounts=[])
    for limit in ("0", "-1", "abc"):
        assert isinstance(ask(sim, "GET", f"{DATABASES}?limit={limit}").body, list)
    page = ask(sim, "GET", f"{DATABASES}?is_active=true&limit=2&offset=abc").body
    assert (page["count"], page["previous"]) == (5, None)
    assert page["next"] == f"http://{HOST}{DATABASES}?is_active=true&limit=2&offset=2"
    page = ask(sim, "GET", f"{DATABASES}?is_active=true&limit=2&offset=3").body
    assert page["previous"] == f"http://{HOST}{DATABASES}?is_active=true&limit=2&offset=1"
    assert page["next"] is None
    page = ask(sim, "GET", f"{DATABASES}?limit=2&offset=1").body
    assert page["previous"] == f"http://{HOST}{DATABASES}?limit=2"  # offset - limit <= 0 drops offset


# ------------------------------------------------------------------ F11, F12 platform and protocols
@VERSIONS
def test_platform_forms(version):
    sim = simulator(version)
    assert new_asset(sim, "a", platform=str(pg(sim)))["platform"]["id"] == pg(sim)
    assert new_asset(sim, "b", platform={"id": pg(sim)})["platform"]["id"] == pg(sim)
    assert new_asset(sim, "c", platform={"pk": pg(sim)})["platform"]["id"] == pg(sim)
    body = {"name": "d", "address": "10.0.0.1"}
    assert ask(sim, "POST", DATABASES, body).body == {"platform": "Platform not exist"}
    assert ask(sim, "POST", DATABASES, {**body, "platform": 999}).body == {"platform": "Platform not exist"}
    with_protocols = {**body, "protocols": [{"name": "postgresql", "port": 5432}]}
    assert ask(sim, "POST", DATABASES, with_protocols).body == {
        "platform": ["This field is required."],
        "protocols": {"platform": "Platform not exist"},
        "db_name": ["This field is required."],
    }
    assert ask(sim, "POST", DATABASES, {**body, "platform": "PostgreSQL"}).status == 500


@VERSIONS
def test_protocol_rules(version):
    sim = simulator(version)
    odd = new_asset(
        sim, "a", protocols=[{"name": "postgresql", "port": 5432}, {"name": "my-proto", "port": 1}]
    )
    assert {p["name"] for p in odd["protocols"]} == {"postgresql", "my-proto"}  # no choice list
    missing = {"name": "b", "address": "h", "platform": pg(sim), "db_name": "x"}
    response = ask(sim, "POST", DATABASES, {**missing, "protocols": [{"name": "ssh", "port": 22}]})
    assert response.body == {"protocols": {"protocols": "Protocol is required: postgresql"}}
    response = ask(sim, "POST", DATABASES, {**missing, "protocols": [{"name": "postgresql", "port": 70000}]})
    assert response.body == {"protocols": [{"port": ["Ensure this value is less than or equal to 65535."]}]}
    response = ask(sim, "POST", DATABASES, {**missing, "protocols": [{"name": "postgresql", "port": "x"}]})
    assert response.body == {"protocols": [{"port": ["A valid integer is required."]}]}
    assert ask(sim, "POST", DATABASES, {**missing, "protocols": [{"name": "postgresql"}]}).status == 500


# ------------------------------------------------------------------ F13 labels
def test_v4_labels():
    sim = simulator("v4")
    asset = new_asset(sim, "a", labels=[" env : prod ", {"name": "team", "value": "db"}])
    assert [(label["name"], label["value"]) for label in asset["labels"]] == [("env", "prod"), ("team", "db")]
    by_id = new_asset(sim, "b", labels=[{"id": asset["labels"][0]["id"]}, asset["labels"][1]["id"]])
    assert [label["id"] for label in by_id["labels"]] == [label["id"] for label in asset["labels"]]
    body = {"name": "c", "address": "h", "platform": pg(sim), "db_name": "x"}
    assert ask(sim, "POST", DATABASES, {**body, "labels": ["no-colon"]}).body == {
        "labels": ["Invalid data type"]
    }


def test_v3_labels():
    sim = simulator("v3")
    assert new_asset(sim, "a", labels=["env:prod"])["labels"] == ["env:prod"]
    body = {"name": "c", "address": "h", "platform": pg(sim), "db_name": "x"}
    assert ask(sim, "POST", DATABASES, {**body, "labels": ["no-colon"]}).status == 500
    unknown = ask(sim, "POST", DATABASES, {**body, "labels": [{"name": "env", "value": "prod"}]})
    assert (unknown.status, unknown.body["detail"]) == (404, "Label object does not exist.")


# ------------------------------------------------------------------ F14 inline accounts on create
@VERSIONS
def test_inline_accounts_errors_are_a_list_and_roll_the_asset_back(version):
    sim = simulator(version)
    accounts = [{"username": "fine"}, {"name": "no-user"}]
    body = {"name": "a", "address": "h", "platform": pg(sim), "db_name": "x", "accounts": accounts}
    response = ask(sim, "POST", DATABASES, body)
    if version == "v3":
        assert (response.status, response.body) == (400, [{}, {"username": ["This field is required."]}])
        assert not sim.store.assets
        assert not sim.store.accounts
    else:
        assert response.status == 201
        assert sorted(a.name for a in sim.store.accounts.values()) == ["fine", "no-user"]  # name optional


# ------------------------------------------------------------------ F15 token order
@VERSIONS
def test_tokens_are_listed_by_expiry(version):
    clock = Clock()
    sim = simulator(version, clock=clock, connection_token_reusable=True)
    asset = new_asset(sim)
    permit(sim, asset["id"], ["@ALL"])
    account = the_account(sim, asset["id"])
    first = token(sim, asset["id"], account).body
    ask(sim, "PATCH", f"{TOKENS}{first['id']}/reuse/", {"is_reusable": True})
    clock.now += 10
    second = token(sim, asset["id"], account).body
    assert [t["id"] for t in ask(sim, "GET", TOKENS).body] == [first["id"], second["id"]]


# ------------------------------------------------------------------ F8 throttling
def test_v4_throttles_the_181st_request_in_60_seconds():
    clock = Clock()
    sim = simulator("v4", clock=clock, throttle_rate="stock")
    for _ in range(180):
        assert ask(sim, "GET", "/api/v1/users/profile/").status == 200
        clock.now += 0.25  # 180 requests over 45 s
    throttled = ask(sim, "GET", "/api/v1/users/profile/")  # 45 s after the first: 15 s left
    assert (throttled.status, throttled.headers) == (429, {"Retry-After": "15"})
    assert throttled.body == {
        "detail": "Request was throttled. Expected available in 15 seconds.",
        "code": "throttled",
    }
    clock.now += 14.2  # 0.8 s left: rounded up
    assert ask(sim, "GET", "/api/v1/users/profile/").headers == {"Retry-After": "1"}
    clock.now += 0.9
    assert ask(sim, "GET", "/api/v1/users/profile/").status == 200  # the first request left the window
    assert ask(sim, "GET", "/api/health/", headers={"authorization": ""}).status == 200
    assert ask(sim, "GET", "/api/v1/assets/domains/").body == {
        "error": "Not found"
    }  # no DRF view: no throttle


@VERSIONS
def test_unknown_routes_are_django_404s_before_authentication(version):
    sim = simulator(version)
    for path in ("/api/v1/nothing/", "/api/v1/authentication/admin-connection-token/"):
        response = ask(sim, "GET", path, headers={"authorization": ""})
        expected = 401 if version == "v4" and "admin" in path else 404
        assert response.status == expected


def test_v3_never_throttles():
    sim = simulator("v3", throttle_rate="stock")
    assert sim.throttle is None
    assert all(ask(sim, "GET", "/api/v1/users/profile/").status == 200 for _ in range(400))


# ------------------------------------------------------------------ F17 signatures
def signed(sim: Simulator, path: str, headers: str = "(request-target) accept date", algorithm="hmac-sha256"):
    values = {"accept": "application/json", "date": formatdate(usegmt=True)}
    lines = [
        f"(request-target): get {path}" if name == "(request-target)" else f"{name}: {values[name]}"
        for name in headers.split()
    ]
    digest = {"hmac-sha1": hashlib.sha1, "hmac-sha256": hashlib.sha256, "hmac-sha512": hashlib.sha512}.get(
        algorithm, hashlib.sha256
    )
    signature = base64.b64encode(hmac.new(ACCESS_KEY[1].encode(), "\n".join(lines).encode(), digest).digest())
    authorization = (
        f'Signature keyId="{ACCESS_KEY[0]}",algorithm="{algorithm}",headers="{headers}",'
        f'signature="{signature.decode()}"'
    )
    return sim.answer("GET", path, {**values, "authorization": authorization, "host": HOST}, b"")


def test_signature_rules():
    sim = simulator("v4")
    path = "/api/v1/users/profile/"
    for algorithm in ("hmac-sha1", "hmac-sha256", "hmac-sha512"):
        assert signed(sim, path, algorithm=algorithm).status == 200
    assert signed(sim, path, algorithm="hmac-md5").status == 500  # httpsig: unknown algorithm
    assert signed(sim, path, headers="accept date").status == 500  # (request-target) not signed
    assert signed(sim, path, headers="(request-target) accept").status == 500


# ------------------------------------------------------------------ F18 detail ids
@VERSIONS
def test_non_uuid_detail_ids(version):
    sim = simulator(version)
    asset = new_asset(sim, "billing")
    by_name = ask(sim, "GET", f"{DATABASES}billing/")
    if version == "v4":
        assert (by_name.status, by_name.body["id"]) == (200, asset["id"])
        assert ask(sim, "GET", f"{DATABASES}nothing/").body["detail"] == "Database object does not exist."
    else:
        assert (by_name.status, by_name.body["detail"]) == (404, "Object object does not exist.")


# ------------------------------------------------------------------ F19 admin tokens
def test_admin_tokens_are_for_superusers_and_listed_with_expired_ones():
    clock = Clock()
    sim = simulator("v4", clock=clock)
    asset = new_asset(sim)
    permit(sim, asset["id"], ["@ALL"])
    admin = token(sim, asset["id"], "dbguard-svc", path="/api/v1/authentication/admin-connection-token/")
    normal = token(sim, asset["id"], the_account(sim, asset["id"]))
    assert (admin.status, normal.status) == (201, 201)
    clock.now += 301
    listed = ask(sim, "GET", "/api/v1/authentication/admin-connection-token/").body
    assert [t["id"] for t in listed] == [admin.body["id"]]  # admin type only, expired included
    sim.service_user.is_superuser = False
    refused = token(sim, asset["id"], "dbguard-svc", path="/api/v1/authentication/admin-connection-token/")
    assert (refused.status, refused.body["code"]) == (403, "permission_denied")


# ------------------------------------------------------------------ NUL characters and label limits
@VERSIONS
@pytest.mark.parametrize("field", ["name", "address", "db_name"])
def test_a_nul_in_a_char_field_is_drfs_400(version, field):
    """rest_framework/fields.py CharField.__init__ appends ProhibitNullCharactersValidator (DRF
    3.14.0, both versions): db_name, name, address are CharFields (assets/serializers/asset/database.py,
    the model's fields)."""
    sim = simulator(version)
    body = {"name": "db-nul", "address": "10.0.0.1", "platform": pg(sim), "db_name": "app"}
    response = ask(sim, "POST", DATABASES, {**body, field: "app\x00x"})
    assert (response.status, response.body) == (400, {field: ["Null characters are not allowed."]})
    asset = new_asset(sim)
    patched = ask(sim, "PATCH", f"{DATABASES}{asset['id']}/", {field: "x\x00"})
    assert (patched.status, patched.body) == (400, {field: ["Null characters are not allowed."]})


@VERSIONS
@pytest.mark.parametrize("label", ["team:bill\x00ing", "te\x00am:billing", f"{'k' * 65}:v", f"k:{'v' * 65}"])
def test_a_label_postgresql_cannot_store_is_a_500(version, label):
    """Before v4.10.19 nothing validates a label's parts (fields.py LabelRelatedField); PostgreSQL
    refuses NUL and more than Label.name/.value's 64 characters, outside DRF's exception handler."""
    sim = simulator(version)
    response = ask(sim, "POST", DATABASES, {
        "name": "db-label", "address": "10.0.0.1", "platform": pg(sim), "db_name": "app", "labels": [label],
    })  # fmt: skip
    assert response.status == 500
    assert not any(a["name"] == "db-label" for a in ask(sim, "GET", DATABASES).body)


def test_v4_strips_label_parts_so_a_trailing_separator_forges_a_label():
    """v4.10.16 fields.py LabelRelatedField: `k, v = [x.strip() for x in data.split(":", 1)]`, and
    str.strip() removes \\x1c-\\x1f too: "dbguard\\x1f:x" is stored as the label dbguard:x (v3 keeps it)."""
    sim = simulator("v4")
    asset = new_asset(sim, labels=["dbguard\x1f:cmdb-other", " team :\tbilling "])
    assert sorted((label["name"], label["value"]) for label in asset["labels"]) == [
        ("dbguard", "cmdb-other"), ("team", "billing"),
    ]  # fmt: skip
    assert new_asset(simulator("v3"), labels=["dbguard\x1f:x"])["labels"] == ["dbguard\x1f:x"]


@VERSIONS
def test_char_fields_are_stored_trimmed(version):
    """CharField(trim_whitespace=True) returns value.strip(): what JumpServer keeps, and what its
    name-uniqueness check compares."""
    sim = simulator(version)
    asset = new_asset(sim, name=" db-trim ", db_name="\tapp ")
    assert (asset["name"], asset["db_name"]) == ("db-trim", "app")
    body = {"name": "db-trim", "address": "10.0.0.2", "platform": pg(sim), "db_name": "app"}
    assert ask(sim, "POST", DATABASES, body).body == {"name": ["This field must be unique."]}


CONNECT_METHODS = "/api/v1/terminal/components/connect-methods/"
MAGNUS_V3 = {"mysql", "postgresql", "oracle", "mariadb", "redis", "sqlserver"}


def db_guide_protocols(sim: Simulator) -> set[str]:
    methods = ask(sim, "GET", CONNECT_METHODS).body
    return {protocol for protocol, listed in methods.items() if any(m["value"] == "db_guide" for m in listed)}


@pytest.mark.parametrize(
    ("version", "licensed", "magnus", "offered"),
    [
        ("v3", False, True, {"mysql", "mariadb", "redis"}),  # xpack protocols dropped
        ("v4", False, True, set()),  # v4.1+: Magnus needs the licence
        ("v3", True, True, MAGNUS_V3),
        ("v4", True, True, MAGNUS_V3 | {"mongodb"}),
        ("v3", False, False, set()),
        ("v4", True, False, set()),
    ],
)
def test_db_guide_follows_the_edition_and_magnus_setting(version, licensed, magnus, offered):
    """apps/terminal/connect_methods.py: NativeClient.get_methods and
    _filter_disable_components_connect_methods (editions.py)."""
    sim = simulator(version, xpack_license_is_valid=licensed, terminal_magnus_enabled=magnus)
    assert db_guide_protocols(sim) == offered
    public = ask(sim, "GET", "/api/v1/settings/public/").body
    assert (public["XPACK_LICENSE_IS_VALID"], public["TERMINAL_MAGNUS_ENABLED"]) == (licensed, magnus)


def test_db_client_is_licensed_on_v4_only():
    """NativeClient.xpack_methods: v3.10.23 [mstsc], v4.10.16 [mstsc, db_client, vnc_guide]."""
    v3 = ask(simulator("v3"), "GET", CONNECT_METHODS).body["mysql"]
    v4 = ask(simulator("v4", xpack_license_is_valid=True), "GET", CONNECT_METHODS).body["mysql"]
    assert [m["value"] for m in v3 if m["component"] == "magnus"] == ["db_client", "db_guide"]
    assert [m["value"] for m in v4 if m["component"] == "magnus"] == ["db_client", "db_guide"]


@VERSIONS
def test_a_db_guide_token_is_issued_whatever_the_edition(version):
    """authentication/serializers/connection_token.py does not validate connect_method: a community
    server issues the token nothing accepts."""
    sim = simulator(version, connection_token_reusable=True)
    assert "postgresql" not in db_guide_protocols(sim)
    asset = new_asset(sim)
    sim.grant_service_user(asset_ids=[asset["id"]])
    account = ask(sim, "GET", f"{ACCOUNTS}?asset={asset['id']}").body[0]
    body = {"asset": asset["id"], "account": account["name"] if version == "v3" else account["id"],
            "protocol": "postgresql", "connect_method": "db_guide"}  # fmt: skip
    assert ask(sim, "POST", TOKENS, body).status == 201

"""The simulator validates requests the way JumpServer does (docs/jumpserver.md)."""

import time
from datetime import datetime

import requests

from tests.conftest import JMS_PRIVATE_TOKEN

HEADERS = {"Authorization": f"Token {JMS_PRIVATE_TOKEN}", "Accept": "application/json"}


def call(sim, method, path, body=None, headers=HEADERS):
    return requests.request(method, sim.url + path, json=body, headers=headers, timeout=10)


def pg_platform(sim):
    return {"v3": 20, "v4": 19}[sim.version]


def create_asset(sim, name="db-1", **changes):
    node = call(sim, "POST", "/api/v1/assets/nodes/", {"full_value": f"/{sim.store.root.value}/dbguard/prod"})
    body = {
        "name": name, "address": "10.0.0.1", "platform": pg_platform(sim), "nodes": [node.json()["id"]],
        "db_name": "billing", "protocols": [{"name": "postgresql", "port": 5432}], "labels": ["dbguard:c-1"],
        "accounts": [{"name": "dbguard", "username": "svc", "secret_type": "password", "secret": "pw-1"}],
    }  # fmt: skip
    body.update(changes)
    return call(sim, "POST", "/api/v1/assets/databases/", body)


def account_reference(sim, asset_id):
    account = call(sim, "GET", f"/api/v1/accounts/accounts/?asset={asset_id}").json()[0]
    return account["name"] if sim.version == "v3" else account["id"]


def token_for(sim, asset_id):
    body = {"asset": asset_id, "account": account_reference(sim, asset_id), "protocol": "postgresql"}
    return call(
        sim, "POST", "/api/v1/authentication/connection-token/", {**body, "connect_method": "db_guide"}
    )


def test_authentication_is_required_and_checked(jumpserver_sim):
    assert call(jumpserver_sim, "GET", "/api/v1/assets/databases/", headers={}).status_code == 401
    wrong = {"Authorization": "Token " + "0" * 40}
    assert call(jumpserver_sim, "GET", "/api/v1/assets/databases/", headers=wrong).json()["code"] == (
        "authentication_failed"
    )
    assert call(jumpserver_sim, "GET", "/api/health/", headers={}).status_code == 200


def test_v3_hides_postgresql_but_accepts_its_id(jumpserver_sim):
    listed = call(jumpserver_sim, "GET", "/api/v1/assets/platforms/?name=PostgreSQL").json()
    assert (listed == []) == (jumpserver_sim.version == "v3")
    assert create_asset(jumpserver_sim).status_code == 201


def test_asset_validation(jumpserver_sim):
    assert create_asset(jumpserver_sim).status_code == 201
    duplicate = create_asset(jumpserver_sim)
    assert (duplicate.status_code, duplicate.json()) == (400, {"name": ["This field must be unique."]})
    missing = create_asset(jumpserver_sim, name="db-2", db_name="")
    assert missing.json() == {"db_name": ["This field may not be blank."]}  # required=True, no allow_blank
    assert create_asset(jumpserver_sim, name="db-3", platform="PostgreSQL").status_code == 500
    assert create_asset(jumpserver_sim, name="db-4", protocols=[{"name": "postgresql"}]).status_code == 500
    assert len(jumpserver_sim.store.assets) == 1  # refused requests leave nothing behind


def test_a_token_needs_a_permission_and_the_right_account_form(jumpserver_sim):
    asset = create_asset(jumpserver_sim).json()
    refused = token_for(jumpserver_sim, asset["id"])
    assert refused.json() == {"code": "perm_account_invalid", "detail": "Account not found"}
    jumpserver_sim.grant_service_user(node_path=f"/{jumpserver_sim.store.root.value}/dbguard")
    assert token_for(jumpserver_sim, asset["id"]).status_code == 201
    other_form = "dbguard" if jumpserver_sim.version == "v4" else asset["id"]
    body = {
        "asset": asset["id"],
        "account": other_form,
        "protocol": "postgresql",
        "connect_method": "db_guide",
    }
    assert call(jumpserver_sim, "POST", "/api/v1/authentication/connection-token/", body).status_code == 400


def test_token_lifecycle_one_time_reuse_expire(jumpserver_sim, jms_clock):
    asset = create_asset(jumpserver_sim).json()
    jumpserver_sim.grant_service_user(asset_ids=[asset["id"]])
    token = token_for(jumpserver_sim, asset["id"]).json()
    assert token["expire_time"] in (299, 300)
    jms_clock.advance(301)
    assert (
        call(jumpserver_sim, "GET", f"/api/v1/authentication/connection-token/{token['id']}/").status_code
        == 404
    )
    token = token_for(jumpserver_sim, asset["id"]).json()
    path = f"/api/v1/authentication/connection-token/{token['id']}/"
    reused = call(jumpserver_sim, "PATCH", path + "reuse/", {"is_reusable": True}).json()
    assert reused["is_reusable"] is True
    jms_clock.advance(29 * 86400)
    assert call(jumpserver_sim, "GET", path).json()["is_expired"] is False
    assert call(jumpserver_sim, "DELETE", path).status_code == 405
    assert call(jumpserver_sim, "PATCH", path + "expire/").status_code == 204
    assert call(jumpserver_sim, "GET", path).status_code == 404


def test_lists_paginate_and_v4_cuts_unpaginated_lists_at_200(jumpserver_sim):
    for index in range(205):
        jumpserver_sim.store.ensure_path(f"/{jumpserver_sim.store.root.value}/n{index}")
    bare = call(jumpserver_sim, "GET", "/api/v1/assets/nodes/").json()
    assert len(bare) == (200 if jumpserver_sim.version == "v4" else 206)
    page = call(jumpserver_sim, "GET", "/api/v1/assets/nodes/?limit=100&offset=200").json()
    assert (page["count"], len(page["results"]), page["next"]) == (206, 6, None)


def test_faults_throttle_fail_and_recover(make_jumpserver_sim):
    sim = make_jumpserver_sim("v4")
    sim.faults(throttle_next=1, retry_after_seconds=7, fail_next=1)
    first = call(sim, "GET", "/api/v1/users/profile/")
    assert (first.status_code, first.headers["Content-Type"]) == (502, "text/html")  # the proxy's page
    throttled = call(sim, "GET", "/api/v1/users/profile/")
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "7")
    assert call(sim, "GET", "/api/v1/users/profile/").json()["id"] == sim.service_user.id


def test_a_failure_after_commit_applies_the_request_and_loses_its_answer(make_jumpserver_sim):
    sim = make_jumpserver_sim("v4")
    asset_id = create_asset(sim).json()["id"]
    sim.faults(fail_after_commit_next=1)
    lost = call(sim, "PATCH", f"/api/v1/assets/databases/{asset_id}/", {"name": "db-renamed"})
    assert lost.status_code == 502
    assert sim.store.assets[asset_id].name == "db-renamed"  # applied all the same
    assert call(sim, "GET", f"/api/v1/assets/databases/{asset_id}/").status_code == 200  # one lost only


def test_the_request_log_never_holds_credentials(jumpserver_sim):
    create_asset(jumpserver_sim)
    assert all(r.headers.get("authorization") == "<redacted>" for r in jumpserver_sim.requests)


def test_health_tells_the_servers_time_not_the_recordings(jumpserver_sim):
    """apps/jumpserver/api/health.py (v4.10.16; apps/jumpserver/api.py at v3.10.23): int(time.time())."""
    before = int(time.time())
    answered = call(jumpserver_sim, "GET", "/api/health/", headers={}).json()["time"]
    assert before <= answered <= int(time.time()) + 1


def test_an_assets_date_updated_is_its_last_save_never_before_its_creation(jumpserver_sim):
    """date_updated is auto_now, date_created auto_now_add (apps/common/db/models.py)."""
    created = create_asset(jumpserver_sim).json()
    if "date_updated" not in created:  # v3.10's asset serializer has no date_updated
        assert jumpserver_sim.version == "v3"
        return
    assert _parsed(created["date_updated"]) >= _parsed(created["date_created"])
    time.sleep(1.1)  # the answer's dates are to the second
    path = f"/api/v1/assets/databases/{created['id']}/"
    updated = call(jumpserver_sim, "PATCH", path, {"comment": "moved"}).json()
    assert updated["date_created"] == created["date_created"]
    assert _parsed(updated["date_updated"]) > _parsed(created["date_updated"])


def _parsed(date: str) -> datetime:
    return datetime.strptime(date, "%Y/%m/%d %H:%M:%S %z")

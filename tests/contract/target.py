"""The JumpServer a contract test talks to: the simulator (each version in turn, in `make test`) or a
real server (`make contract-real`: JUMPSERVER_CONTRACT_URL, _TOKEN and _VERSION set).

Tests see only HTTP, the same for both, so a rule checked here on a real server is the rule the
simulator is held to in CI.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import requests

from jumpserver_sim import Simulator

DEFAULT_ORG = "00000000-0000-0000-0000-000000000002"
REAL_URL = os.environ.get("JUMPSERVER_CONTRACT_URL", "")
REAL_TOKEN = os.environ.get("JUMPSERVER_CONTRACT_TOKEN", "")
REAL_VERSION = os.environ.get("JUMPSERVER_CONTRACT_VERSION", "")
# what a stock v3.10 install numbers the platform it hides from the API (assets_platform table)
REAL_PLATFORM_IDS = os.environ.get("JUMPSERVER_CONTRACT_PLATFORM_IDS", '{"PostgreSQL": 20}')
REAL_REQUESTS_PER_MINUTE = os.environ.get("JUMPSERVER_CONTRACT_REQUESTS_PER_MINUTE", "80")


def targets() -> list[str]:
    """The pytest parameters: "real" alone when a real server is configured, else both simulators."""
    if REAL_URL:
        if not (REAL_TOKEN and REAL_VERSION in ("v3", "v4")):
            raise RuntimeError("set JUMPSERVER_CONTRACT_TOKEN and JUMPSERVER_CONTRACT_VERSION=v3|v4 too")
        return ["real"]
    return ["v3", "v4"]


@dataclass
class JumpServerTarget:
    url: str
    token: str
    version: str
    simulator: Simulator | None = None

    @property
    def is_real(self) -> bool:
        return self.simulator is None

    def call(self, method: str, path: str, json: Any = None, **params: Any) -> requests.Response:
        return requests.request(
            method,
            self.url + path,
            json=json,
            params=params or None,
            headers={
                "Authorization": f"Token {self.token}",
                "Accept": "application/json",
                "Accept-Language": "en",
                "X-JMS-ORG": DEFAULT_ORG,
            },
            timeout=30,
        )

    def ok(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        response = self.call(method, path, json, **params)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text[:300]}"
        return response.json() if response.content else None

    # ---------------------------------------------------------------- facts a test needs
    def me(self) -> str:
        return self.ok("GET", "/api/v1/users/profile/")["id"]

    def platform_id(self, name: str = "PostgreSQL") -> int:
        listed = self.ok("GET", "/api/v1/assets/platforms/", name=name)
        if listed:
            return int(listed[0]["id"])
        return 20  # hidden on v3 open source; 20 on a stock install

    def reusable_tokens(self) -> bool:
        return bool(self.ok("GET", "/api/v1/settings/public/").get("CONNECTION_TOKEN_REUSABLE"))

    def token_detail(self, token_id: str) -> requests.Response:
        return self.call("GET", f"/api/v1/authentication/connection-token/{token_id}/")

    def token_is_valid(self, token_id: str) -> bool:
        response = self.token_detail(token_id)
        return response.status_code == 200 and not response.json()["is_expired"]

    def database(self, name: str) -> dict[str, Any] | None:
        page = self.ok("GET", "/api/v1/assets/databases/", name=name, limit=10, offset=0)
        return next((asset for asset in page["results"] if asset["name"] == name), None)

    def accounts(self, asset_id: str) -> list[dict[str, Any]]:
        return self.ok("GET", "/api/v1/accounts/accounts/", asset=asset_id, limit=100, offset=0)["results"]

    def permission(self, name: str) -> dict[str, Any] | None:
        page = self.ok("GET", "/api/v1/perms/asset-permissions/", name=name, limit=10, offset=0)
        return next((perm for perm in page["results"] if perm["name"] == name), None)

    # ---------------------------------------------------------------- objects a test creates
    def new_database(self, prefix: str = "contract") -> dict[str, Any]:
        return self.ok("POST", "/api/v1/assets/databases/", {
            "name": unique(prefix), "address": "127.0.0.2", "platform": self.platform_id(),
            "db_name": "contract", "protocols": [{"name": "postgresql", "port": 5432}],
        })  # fmt: skip

    def new_account(self, asset_id: str, name: str, username: str) -> dict[str, Any]:
        return self.ok("POST", "/api/v1/accounts/accounts/", {
            "asset": asset_id, "name": name, "username": username, "secret_type": "password",
            "secret": uuid.uuid4().hex, "privileged": False, "on_invalid": "error",
        })  # fmt: skip

    def grant(self, asset_id: str, accounts: list[str], **extra: Any) -> dict[str, Any]:
        return self.ok("POST", "/api/v1/perms/asset-permissions/", {
            "name": unique("contract-perm"), "users": [self.me()], "user_groups": [], "assets": [asset_id],
            "nodes": [], "accounts": accounts, "protocols": ["all"], "actions": ["connect"],
            "is_active": True, **extra,
        })  # fmt: skip

    def request_token(self, asset_id: str, account: dict[str, Any], protocol: str = "postgresql"):
        reference = account["id"] if self.version == "v4" else account["name"]
        return self.call("POST", "/api/v1/authentication/connection-token/", {
            "asset": asset_id, "account": reference, "protocol": protocol, "connect_method": "db_guide",
            "input_username": "", "input_secret": "", "is_reusable": True, "connect_options": {},
        })  # fmt: skip


def unique(prefix: str) -> str:
    """Real servers keep what earlier runs created: every name a test makes is new."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"

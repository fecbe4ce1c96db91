"""The operations dbguard needs from JumpServer, hiding where v3.10 and v4.x differ.

Differences handled here (facts in docs/jumpserver.md): connection tokens name the account by its
name on v3 and by its UUID on v4; v3 open source hides the PostgreSQL platform (a configured id is
used instead); the root node is "Default" on v3 and "DEFAULT" on v4; the admin connection-token
endpoint exists on v4 only; lists are always paginated (v4 cuts unpaginated ones at 200 rows).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

from pydantic import SecretStr

from dbguard.errors import ConfigurationError
from dbguard.jumpserver.auth import CredentialsSource
from dbguard.jumpserver.errors import JumpServerNotFound, JumpServerRejected, JumpServerUnavailable
from dbguard.jumpserver.models import ConnectionToken, DatabaseAsset
from dbguard.jumpserver.transport import Transport
from dbguard.registry.models import JumpServerAccount
from dbguard.settings import Settings

JUMPSERVER_SETTINGS = ("jumpserver_url", "jumpserver_credentials_secret_arn")
PAGE_SIZE = 500  # below both versions' maximum (v3 10000, v4 1000)
TOKENS = "/api/v1/authentication/connection-token/"
ADMIN_TOKENS = "/api/v1/authentication/admin-connection-token/"


class JumpServerClient:
    def __init__(
        self,
        transport: Transport,
        *,
        version: str = "auto",
        platform_ids: dict[str, int] | None = None,
        use_admin_tokens: bool = False,
    ) -> None:
        self._http = transport
        self._version = None if version == "auto" else version
        self._platform_ids = platform_ids or {}
        self._use_admin_tokens = use_admin_tokens
        self._lock = threading.Lock()
        self._user_id: str | None = None
        self._root: str | None = None
        self._nodes: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Settings, secretsmanager: Any) -> JumpServerClient:
        credentials = CredentialsSource(
            secretsmanager,
            settings.jumpserver_credentials_secret_arn,
            settings.jumpserver_credentials_cache_seconds,
        )
        transport = Transport(
            settings.jumpserver_url,
            credentials,
            org_id=settings.jumpserver_org_id,
            timeout_seconds=settings.jumpserver_timeout_seconds,
            max_retries=settings.jumpserver_max_retries,
        )
        return cls(
            transport,
            version=settings.jumpserver_version,
            platform_ids=settings.jumpserver_platform_ids,
            use_admin_tokens=settings.jumpserver_use_admin_tokens,
        )

    # ------------------------------------------------------------------ server facts (read once)
    @property
    def version(self) -> str:
        """v3 or v4: only v4 serves the client-versions setting (no endpoint reports the release)."""
        if self._version is None:
            status = self._http.status_of("GET", "/api/v1/settings/client/versions/", "version detection")
            if status not in (200, 404):  # an outage must not pass for v3 (accounts by name, ...)
                raise JumpServerUnavailable(
                    f"JumpServer answered HTTP {status} to version detection", status=status
                )
            self._version = "v4" if status == 200 else "v3"
        return self._version

    def current_user_id(self) -> str:
        with self._lock:
            if self._user_id is None:
                self._user_id = self._http.request("GET", "/api/v1/users/profile/", what="the profile")["id"]
            return self._user_id

    def platform_id(self, name: str) -> int:
        found = self._http.request(
            "GET", "/api/v1/assets/platforms/", params={"name": name}, what=f"platform {name}"
        )
        for platform in found:
            if platform["name"] == name:
                return int(platform["id"])
        if name in self._platform_ids:  # v3 open source hides PostgreSQL from the API
            return self._platform_ids[name]
        raise ConfigurationError(
            f"JumpServer shows no platform named {name!r}; if it is hidden (PostgreSQL on v3 open source), "
            f'set JumpServerPlatformIds, e.g. {{"{name}": 20}}'
        )

    def ensure_node(self, path: str) -> str:
        """The node at `path` under the organisation's root, created if missing; its id."""
        path = path.strip("/")
        with self._lock:
            if path in self._nodes:
                return self._nodes[path]
        if self._root is None:
            roots = self._http.request(
                "GET", "/api/v1/assets/nodes/", params={"key": "1"}, what="the root node"
            )
            self._root = roots[0]["value"]
        full_value = f"/{self._root}/{path}" if path else f"/{self._root}"
        node = self._http.request(
            "POST", "/api/v1/assets/nodes/", json={"full_value": full_value}, what="a node"
        )
        with self._lock:
            self._nodes[path] = node["id"]
        return node["id"]

    # ------------------------------------------------------------------ database assets
    def find_database(self, name: str) -> DatabaseAsset | None:
        for asset in self._pages("/api/v1/assets/databases/", {"name": name}, f"asset {name}"):
            if asset["name"] == name:
                return DatabaseAsset.model_validate(asset)
        return None

    def list_databases(self) -> Iterator[DatabaseAsset]:
        for asset in self._pages("/api/v1/assets/databases/", {}, "the database assets"):
            yield DatabaseAsset.model_validate(asset)

    def get_database(self, asset_id: str) -> DatabaseAsset:
        return DatabaseAsset.model_validate(
            self._http.request("GET", f"/api/v1/assets/databases/{asset_id}/", what=f"asset {asset_id}")
        )

    def create_database(self, **fields: Any) -> DatabaseAsset:
        body = _asset_body(fields)
        created = self._http.request(
            "POST", "/api/v1/assets/databases/", json=body, what=f"asset {fields['name']}"
        )
        return DatabaseAsset.model_validate(created)

    def update_database(self, asset_id: str, **fields: Any) -> DatabaseAsset:
        body = _asset_body(fields)
        updated = self._http.request(
            "PATCH", f"/api/v1/assets/databases/{asset_id}/", json=body, what=f"asset {asset_id}"
        )
        return DatabaseAsset.model_validate(updated)

    def deactivate_database(self, asset_id: str) -> None:
        self._http.request(
            "PATCH",
            f"/api/v1/assets/databases/{asset_id}/",
            json={"is_active": False},
            what=f"asset {asset_id}",
        )

    def delete_database(self, asset_id: str) -> None:
        self._http.request("DELETE", f"/api/v1/assets/databases/{asset_id}/", what=f"asset {asset_id}")

    # ------------------------------------------------------------------ accounts and permissions
    def ensure_account(
        self, asset_id: str, name: str, *, username: str | None = None, secret: SecretStr | None = None,
        template_id: str | None = None,
    ) -> JumpServerAccount:  # fmt: skip
        """The account `name` on the asset, created or brought up to date; never duplicated."""
        existing = next(
            (
                a
                for a in self._pages("/api/v1/accounts/accounts/", {"asset": asset_id}, "accounts")
                if a["name"] == name
            ),
            None,
        )
        if existing is not None:
            if username and existing["username"] != username:
                raise JumpServerRejected(
                    f"account {name} on asset {asset_id} has another user name than the credentials give; "
                    "JumpServer cannot change it: delete the account in JumpServer and redrive the change"
                )
            if secret is not None:
                self._http.request(
                    "PATCH", f"/api/v1/accounts/accounts/{existing['id']}/",
                    json={"secret": secret.get_secret_value()}, what=f"account {name}",
                )  # fmt: skip
            return JumpServerAccount(id=existing["id"], name=existing["name"])
        body: dict[str, Any] = {"asset": asset_id, "name": name, "privileged": False, "on_invalid": "error"}
        if template_id:
            body["template"] = template_id
        else:
            body |= {"username": username, "secret_type": "password", "secret": secret.get_secret_value()}
        created = self._http.request("POST", "/api/v1/accounts/accounts/", json=body, what=f"account {name}")
        return JumpServerAccount(id=created["id"], name=created["name"])

    def ensure_permission(self, asset_id: str, account: JumpServerAccount) -> None:
        """Let the service user issue tokens for this asset and account (not needed with admin tokens)."""
        if self._admin_tokens:
            return
        name = f"dbguard-{asset_id}"
        found = list(self._pages("/api/v1/perms/asset-permissions/", {"name": name}, f"permission {name}"))
        body = {
            "name": name, "users": [self.current_user_id()], "user_groups": [], "assets": [asset_id],
            "nodes": [], "accounts": [account.name], "protocols": ["all"], "actions": ["connect"],
            "is_active": True,
        }  # fmt: skip
        if found:
            self._http.request(
                "PATCH", f"/api/v1/perms/asset-permissions/{found[0]['id']}/", json=body, what=name
            )
        else:
            self._http.request("POST", "/api/v1/perms/asset-permissions/", json=body, what=name)

    # ------------------------------------------------------------------ connection tokens
    def create_connection_token(
        self, asset_id: str, account: JumpServerAccount, protocol: str
    ) -> ConnectionToken:
        """A one-time token (JumpServer expires it in 300 s until make_token_reusable)."""
        body = {
            "asset": asset_id,
            "account": account.id if self.version == "v4" and not self._admin_tokens else account.name,
            "protocol": protocol,  # JumpServer defaults to ssh
            "connect_method": "db_guide",
            "input_username": "",
            "input_secret": "",
            "is_reusable": True,
            "connect_options": {},
        }
        path = ADMIN_TOKENS if self._admin_tokens else TOKENS
        return ConnectionToken.model_validate(
            self._http.request("POST", path, json=body, what="a connection token")
        )

    def make_token_reusable(self, token_id: str) -> ConnectionToken:
        self._http.request(
            "PATCH", f"{TOKENS}{token_id}/reuse/", json={"is_reusable": True}, what=f"token {token_id}"
        )
        token = self.get_connection_token(token_id)
        if token is None:
            raise JumpServerNotFound(f"token {token_id} vanished after it was made reusable", status=404)
        return token

    def get_connection_token(self, token_id: str) -> ConnectionToken | None:
        """The token, or None when JumpServer does not know it (expired, or not the service user's)."""
        if not _is_uuid(token_id):
            return None  # v4 answers a malformed id with a 500
        try:
            found = self._http.request("GET", f"{TOKENS}{token_id}/", what=f"token {token_id}")
        except JumpServerNotFound:
            return None
        return ConnectionToken.model_validate(found)

    def expire_connection_token(self, token_id: str) -> None:
        """Revoke the token; one that is already expired or unknown counts as done."""
        if not _is_uuid(token_id):
            return
        with suppress(JumpServerNotFound):
            self._http.request("PATCH", f"{TOKENS}{token_id}/expire/", what=f"token {token_id}")

    # ------------------------------------------------------------------ helpers
    @property
    def _admin_tokens(self) -> bool:
        return self._use_admin_tokens and self.version == "v4"

    def _pages(self, path: str, params: dict[str, Any], what: str) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._http.request(
                "GET", path, params={**params, "limit": PAGE_SIZE, "offset": offset}, what=what
            )
            yield from page["results"]
            offset += len(page["results"])
            if not page.get("next") or not page["results"]:
                return


def _asset_body(fields: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key in ("name", "address", "db_name", "is_active"):
        if key in fields:
            body[key] = fields[key]
    if "platform_id" in fields:
        body["platform"] = fields["platform_id"]  # the numeric id: a name is a 500
    if "node_id" in fields:
        body["nodes"] = [fields["node_id"]]
    if "protocol" in fields:
        body["protocols"] = [{"name": fields["protocol"], "port": fields["port"]}]  # a missing port is a 500
    if "labels" in fields:
        body["labels"] = [f"{key}:{value}" for key, value in fields["labels"].items()]
    return body


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

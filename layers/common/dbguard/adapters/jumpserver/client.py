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

from dbguard.adapters.jumpserver.errors import (
    JumpServerConflict,
    JumpServerNotFound,
    JumpServerRejected,
    JumpServerUnavailable,
    ReusableTokensDisabled,
)
from dbguard.adapters.jumpserver.models import ConnectionToken, JumpServerDatabaseAsset
from dbguard.adapters.jumpserver.transport import RequestTally, Transport
from dbguard.cmdb.inventory import AccountSource, AccountTemplate, DatabaseAsset, DatabaseAssetFields
from dbguard.errors import ConfigurationError, RejectedChange
from dbguard.jumpserver import DB_PROXY_CONNECT_METHOD, DbProxyOffer, IssuedToken, JumpServerAccount

PAGE_SIZE = 500  # below both versions' maximum (v3 10000, v4 1000)
TOKENS = "/api/v1/authentication/connection-token/"
PERMISSIONS = "/api/v1/perms/asset-permissions/"
DIRECTORIES = "/api/v1/assets/directories/?limit=1"
PUBLIC_SETTINGS = "/api/v1/settings/public/"
CONNECT_METHODS = "/api/v1/terminal/components/connect-methods/"
REUSE_DISABLED = (
    "JumpServer refuses reusable connection tokens (CONNECTION_TOKEN_REUSABLE is off, a stock server's "
    "default): every token would be one-time and expire in 300 s"
)
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
        self._root: dict[str, Any] | None = None
        self._nodes: dict[str, str] = {}
        self._templates: dict[str, tuple[str, str]] = {}

    @property
    def requests(self) -> RequestTally:
        """The requests this client sent, for the invocation's report (JumpServerRequests)."""
        return self._http.tally

    # ------------------------------------------------------------------ server facts (read once)
    @property
    def version(self) -> str:
        """ "v4" from v4.9 on (a connection token names the account by its id), else "v3" (by its name:
        v3.x and v4.0-v4.8). No endpoint reports the release; directory-service assets arrived with
        v4.9.0 (assets/urls/api_urls.py), so their route is the tell. The client-versions setting only
        exists from v4.10.13 and cannot be used."""
        if self._version is None:
            status = self._http.status_of("GET", DIRECTORIES, "version detection")
            if status not in (200, 403, 404):  # an outage must not pass for v3 (accounts by name, ...)
                raise JumpServerUnavailable(
                    f"JumpServer answered HTTP {status} to version detection", status=status
                )
            self._version = "v3" if status == 404 else "v4"
        return self._version

    def reusable_tokens_enabled(self) -> bool:
        """The server's CONNECTION_TOKEN_REUSABLE (settings/serializers/public.py, both versions)."""
        public = self._http.request("GET", PUBLIC_SETTINGS, what="the public settings")
        return bool(public.get("CONNECTION_TOKEN_REUSABLE")) if isinstance(public, dict) else False

    def db_proxy_offer(self) -> DbProxyOffer:
        """The protocols the service user's connect methods offer db_guide for (terminal/api/component/
        connect_methods.py ConnectMethodListApi: {protocol: [method, ...]}, both versions) and the
        public settings that decide them (settings/serializers/public.py PrivateSettingSerializer)."""
        public = self._http.request("GET", PUBLIC_SETTINGS, what="the public settings")
        methods = self._http.request("GET", CONNECT_METHODS, what="the connect methods")
        settings = public if isinstance(public, dict) else {}
        offered = frozenset(
            str(protocol)
            for protocol, listed in (methods.items() if isinstance(methods, dict) else ())
            if isinstance(listed, list) and any(_is_db_proxy(method) for method in listed)
        )
        return DbProxyOffer(
            protocols=offered,
            license_valid=_flag(settings.get("XPACK_LICENSE_IS_VALID")),
            magnus_enabled=_flag(settings.get("TERMINAL_MAGNUS_ENABLED")),
        )

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
            self._root = roots[0]
        if not path:  # the root itself: posting its bare full_value is a 500 on real servers
            return str(self._root["id"])
        node = self._http.request(
            "POST",
            "/api/v1/assets/nodes/",
            json={"full_value": f"/{self._root['value']}/{path}"},
            what="a node",
        )
        with self._lock:
            self._nodes[path] = str(node["id"])
        return self._nodes[path]

    # ------------------------------------------------------------------ database assets
    def get_database(self, asset_id: str) -> DatabaseAsset | None:
        """The asset, or None when JumpServer no longer has it (deleted by hand, or hard-deleted)."""
        if not _is_uuid(asset_id):
            return None  # v4 answers a malformed id with a 500
        try:
            found = self._http.request(
                "GET", f"/api/v1/assets/databases/{asset_id}/", what=f"asset {asset_id}"
            )
        except JumpServerNotFound:
            return None
        return JumpServerDatabaseAsset.model_validate(found)

    def find_database(self, name: str) -> DatabaseAsset | None:
        for asset in self._pages("/api/v1/assets/databases/", {"name": name}, f"asset {name}"):
            if asset["name"] == name:
                return JumpServerDatabaseAsset.model_validate(asset)
        return None

    def create_database(self, fields: DatabaseAssetFields) -> DatabaseAsset:
        created = self._http.request(
            "POST", "/api/v1/assets/databases/", json=_asset_body(fields), what=f"asset {fields.name}"
        )
        return JumpServerDatabaseAsset.model_validate(created)

    def update_database(self, asset_id: str, fields: DatabaseAssetFields) -> DatabaseAsset:
        path = f"/api/v1/assets/databases/{asset_id}/"
        updated = self._http.request("PATCH", path, json=_asset_body(fields), what=f"asset {asset_id}")
        return JumpServerDatabaseAsset.model_validate(updated)

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
    def ensure_account(self, asset_id: str, name: str, source: AccountSource) -> JumpServerAccount:
        """The account `name` on the asset, created or brought up to date; never duplicated.

        With a template, JumpServer replaces name, username and secret by the template's
        (accounts/serializers/account/account.py from_template_if_need), so the account is the
        template's name; its secret is the template's business."""
        secret: str | None = None
        if isinstance(source, AccountTemplate):
            given: dict[str, Any] = {"template": source.id}
        else:
            secret = source.password.get_secret_value()
            given = {"username": source.username, "secret_type": "password", "secret": secret}
        name, existing = self._fitting_account(asset_id, name, source)
        if existing is None:
            body = {"asset": asset_id, "name": name, "privileged": False, "on_invalid": "error", **given}
            try:
                return _account(
                    self._http.request(
                        "POST", "/api/v1/accounts/accounts/", json=body, what=f"account {name}"
                    )
                )
            except JumpServerConflict:  # made by a request whose answer was lost, or a username taken
                name, existing = self._fitting_account(asset_id, name, source)
                if existing is None:
                    raise
        if secret is not None:
            self._http.request(
                "PATCH", f"/api/v1/accounts/accounts/{existing['id']}/", json={"secret": secret},
                what=f"account {name}",
            )  # fmt: skip
        return _account(existing)

    def require_account_fits(self, asset_id: str, name: str, source: AccountSource) -> None:
        """Refuse (RejectedChange) credentials whose username differs from the account's: JumpServer
        never changes an account's username (accounts/serializers/account/account.py). Reads only."""
        self._fitting_account(asset_id, name, source)

    def _fitting_account(
        self, asset_id: str, name: str, source: AccountSource
    ) -> tuple[str, dict[str, Any] | None]:
        """The account's name (a template's own) and the account of that name on the asset, if any."""
        if isinstance(source, AccountTemplate):
            name, username = self._template(source.id)
        else:
            username = source.username
        existing = self._account_named(asset_id, name)
        if existing is not None and username and existing["username"] != username:
            raise RejectedChange(
                f"account {name} on asset {asset_id} has another user name than the credentials give; "
                "JumpServer cannot change it: delete the account in JumpServer and redrive the change"
            )
        return name, existing

    def _account_named(self, asset_id: str, name: str) -> dict[str, Any] | None:
        # v3 has no `name` filter (it is ignored), so filter here
        accounts = self._pages("/api/v1/accounts/accounts/", {"asset": asset_id}, "accounts")
        return next((account for account in accounts if account["name"] == name), None)

    def _template(self, template_id: str) -> tuple[str, str]:
        with self._lock:
            if template_id in self._templates:
                return self._templates[template_id]
        template = self._http.request(
            "GET",
            f"/api/v1/accounts/account-templates/{template_id}/",
            what=f"account template {template_id}",
        )
        with self._lock:
            self._templates[template_id] = (template["name"], template["username"])
        return self._templates[template_id]

    def ensure_permission(self, asset_id: str, account: JumpServerAccount) -> None:
        """Let the service user issue tokens for this asset and account (not needed with admin tokens).

        A permission's `accounts` are matched against account *usernames* (perms/utils/asset_perm.py
        PermAssetDetailUtil.parse_alias_action_date_expire and map_alias_to_accounts, v3.10 and v4.x):
        `@SPEC` + the username is what JumpServer's own UI saves for "specified accounts", and grants
        just the accounts of that username; `@ALL` would also grant every other account of the asset.
        A permission saved otherwise (earlier dbguard versions named the account) is corrected."""
        if self._admin_tokens:
            return
        username = account.username or self._username_of(asset_id, account)
        name = f"dbguard-{asset_id}"
        body = {
            "name": name, "users": [self.current_user_id()], "user_groups": [], "assets": [asset_id],
            "nodes": [], "accounts": ["@SPEC", username], "protocols": ["all"], "actions": ["connect"],
            "is_active": True,
        }  # fmt: skip
        found = self._permission_named(name)
        if found is None:
            try:
                self._http.request("POST", PERMISSIONS, json=body, what=name)
                return
            except JumpServerConflict:  # made by a request whose answer was lost
                found = self._permission_named(name)
                if found is None:
                    raise
        if not _grants(found, body):
            self._http.request("PATCH", f"{PERMISSIONS}{found['id']}/", json=body, what=name)

    def _permission_named(self, name: str) -> dict[str, Any] | None:
        pages = self._pages(PERMISSIONS, {"name": name}, f"permission {name}")
        return next((permission for permission in pages if permission["name"] == name), None)

    def _username_of(self, asset_id: str, account: JumpServerAccount) -> str:
        accounts = self._pages("/api/v1/accounts/accounts/", {"asset": asset_id}, "accounts")
        found = next((a for a in accounts if a["id"] == account.id), None)
        if found is None:
            raise JumpServerNotFound(f"account {account.name} is no longer on asset {asset_id}", status=404)
        return str(found["username"])

    # ------------------------------------------------------------------ connection tokens
    def create_connection_token(
        self, asset_id: str, account: JumpServerAccount, protocol: str
    ) -> ConnectionToken:
        """A one-time token (JumpServer expires it in 300 s until make_token_reusable)."""
        body = {
            "asset": asset_id,
            "account": account.id if self.version == "v4" and not self._admin_tokens else account.name,
            "protocol": protocol,  # JumpServer defaults to ssh
            "connect_method": DB_PROXY_CONNECT_METHOD,
            "input_username": "",
            "input_secret": "",
            "is_reusable": True,
            "connect_options": {},
        }
        path = ADMIN_TOKENS if self._admin_tokens else TOKENS
        return ConnectionToken.model_validate(
            self._http.request("POST", path, json=body, what="a connection token")
        )

    def make_token_reusable(self, token: IssuedToken) -> ConnectionToken:
        """The token as JumpServer now holds it. The reuse answer is the token serializer's data (id,
        is_reusable, date_expired: authentication/api/connection_token.py reuse(), v3.10 and v4.x), so
        no read-back is needed; an answer without the expiry is read back."""
        try:
            answer = self._http.request(
                "PATCH", f"{TOKENS}{token.id}/reuse/", json={"is_reusable": True}, what=f"token {token.id}"
            )
        except JumpServerRejected as error:
            if "not allowed" in str(error):  # authentication/api/connection_token.py reuse()
                raise ReusableTokensDisabled(REUSE_DISABLED) from None
            raise
        if isinstance(answer, dict) and "date_expired" in answer:
            return ConnectionToken.model_validate({"value": token.value, **answer, "id": token.id})
        found = self.get_connection_token(token.id)
        if found is None:
            raise JumpServerNotFound(f"token {token.id} vanished after it was made reusable", status=404)
        return found

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

    def reserve(self, requests: int) -> None:
        self._http.reserve(requests)

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


def _account(found: dict[str, Any]) -> JumpServerAccount:
    return JumpServerAccount(id=found["id"], name=found["name"], username=found["username"])


def _grants(found: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether a permission as JumpServer lists it already grants what `wanted` asks."""
    ids = {key: {item["id"] if isinstance(item, dict) else item for item in found.get(key) or []}
           for key in ("users", "assets")}  # fmt: skip
    actions = {a["value"] if isinstance(a, dict) else a for a in found.get("actions") or []}
    return (
        ids["users"] == set(wanted["users"])
        and ids["assets"] == set(wanted["assets"])
        and set(found.get("accounts") or []) == set(wanted["accounts"])
        and "all" in (found.get("protocols") or [])
        and "connect" in actions
        and bool(found.get("is_active"))
    )


def _asset_body(fields: DatabaseAssetFields) -> dict[str, Any]:
    body = fields.model_dump(exclude_none=True)
    if "labels" in body:
        body["labels"] = [f"{key}:{value}" for key, value in body["labels"].items()]
    return body


def _is_db_proxy(method: Any) -> bool:
    return isinstance(method, dict) and method.get("value") == DB_PROXY_CONNECT_METHOD


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

"""JumpServer's REST endpoints as dbguard uses them, with the real servers' validation and quirks
(docs: ../shared/jumpserver-api.md; every exchange of the recordings replays in tests/contract)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jumpserver_sim.state import PLATFORMS, TEMPLATES, Account, Asset, Permission, State, format_date

UNCUT_LIST_LIMIT = 200  # v4 silently cuts unpaginated lists
PROTOCOLS = {
    "mysql",
    "mariadb",
    "postgresql",
    "oracle",
    "sqlserver",
    "db2",
    "dameng",
    "clickhouse",
    "redis",
    "mongodb",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    now: float


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def not_found(kind: str) -> ApiError:
    return ApiError(404, {"detail": f"{kind} object does not exist.", "code": "object_does_not_exist"})


def field_error(name: str, message: str) -> ApiError:
    return ApiError(400, {name: [message]})


INTERNAL_ERROR = ApiError(500, {"error": "Server internal error"})
ROUTE_NOT_FOUND = ApiError(404, {"error": "Not found"})


class Api:
    def __init__(self, state: State) -> None:
        self.state = state
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = []
        uid = r"(?P<id>[^/]+)"
        for method, pattern, handler in [
            ("GET", r"/api/v1/assets/platforms/", self.list_platforms),
            ("GET", rf"/api/v1/assets/platforms/{uid}/", self.get_platform),
            ("GET", r"/api/v1/assets/nodes/", self.list_nodes),
            ("POST", r"/api/v1/assets/nodes/", self.create_node),
            ("GET", r"/api/v1/assets/databases/", self.list_assets),
            ("POST", r"/api/v1/assets/databases/", self.create_asset),
            ("GET", rf"/api/v1/assets/databases/{uid}/", self.get_asset),
            ("PATCH", rf"/api/v1/assets/databases/{uid}/", self.update_asset),
            ("PUT", rf"/api/v1/assets/databases/{uid}/", self.update_asset),
            ("DELETE", rf"/api/v1/assets/databases/{uid}/", self.delete_asset),
            ("GET", r"/api/v1/accounts/accounts/", self.list_accounts),
            ("POST", r"/api/v1/accounts/accounts/", self.create_account),
            ("PATCH", rf"/api/v1/accounts/accounts/{uid}/", self.update_account),
            ("GET", r"/api/v1/users/profile/", lambda request: Response(200, self.state.render_user())),
            ("GET", r"/api/v1/perms/asset-permissions/", self.list_permissions),
            ("POST", r"/api/v1/perms/asset-permissions/", self.create_permission),
            ("PATCH", rf"/api/v1/perms/asset-permissions/{uid}/", self.update_permission),
            ("GET", r"/api/v1/authentication/connection-token/", self.list_tokens),
            ("POST", r"/api/v1/authentication/connection-token/", self.create_token),
            ("OPTIONS", r"/api/v1/authentication/connection-token/", self.token_options),
            ("GET", rf"/api/v1/authentication/connection-token/{uid}/", self.get_token),
            ("DELETE", rf"/api/v1/authentication/connection-token/{uid}/", self.delete_token),
            ("PATCH", rf"/api/v1/authentication/connection-token/{uid}/reuse/", self.reuse_token),
            ("PATCH", rf"/api/v1/authentication/connection-token/{uid}/expire/", self.expire_token),
            ("GET", r"/api/v1/authentication/admin-connection-token/", self.list_admin_tokens),
            ("POST", r"/api/v1/authentication/admin-connection-token/", self.create_admin_token),
        ]:
            self.routes.append((method, re.compile(pattern + "$"), handler))

    def handle(self, request: Request) -> Response:
        static = TEMPLATES[self.state.version]["static"].get(request.path)
        if static is not None and request.method == "GET":
            return Response(static["status"], static["json"])
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                with self.state.lock:
                    return handler(request, **match.groupdict())
        if any(pattern.match(request.path) for _, pattern, _ in self.routes):
            return Response(
                405, {"detail": f'Method "{request.method}" not allowed.', "code": "method_not_allowed"}
            )
        raise ROUTE_NOT_FOUND

    # ------------------------------------------------------------------ lists
    def page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        if "limit" not in request.query:
            return Response(200, items[:UNCUT_LIST_LIMIT] if self.state.version == "v4" else items)
        limit = _integer(request.query["limit"], "limit")
        limit = min(limit, 10000 if self.state.version == "v3" else 1000)
        offset = _integer(request.query.get("offset", "0"), "offset")
        window = items[offset : offset + limit]
        more = offset + limit < len(items)
        next_url = f"{request.path}?limit={limit}&offset={offset + limit}" if more else None
        previous = f"{request.path}?limit={limit}&offset={max(offset - limit, 0)}" if offset else None
        return Response(200, {"count": len(items), "next": next_url, "previous": previous, "results": window})

    # ------------------------------------------------------------------ platforms and nodes
    def list_platforms(self, request: Request) -> Response:
        names = [name for name, (_, _, hidden) in PLATFORMS[self.state.version].items() if not hidden]
        if "name" in request.query:
            names = [name for name in names if name == request.query["name"]]
        return self.page(request, [self.state.render_platform(name) for name in names])

    def get_platform(self, request: Request, id: str) -> Response:
        for name, (platform_id, _, hidden) in PLATFORMS[self.state.version].items():
            if not hidden and id in (name, str(platform_id)):
                return Response(200, self.state.render_platform(name, detail=True))
        raise not_found("Platform")

    def list_nodes(self, request: Request) -> Response:
        nodes = list(self.state.nodes.values())
        for key in ("key", "value", "id"):
            if key in request.query:
                nodes = [node for node in nodes if getattr(node, key) == request.query[key]]
        return self.page(request, [self.state.render_node(node) for node in nodes])

    def create_node(self, request: Request) -> Response:
        full_value = (request.body or {}).get("full_value")
        if not isinstance(full_value, str) or not full_value.strip("/"):
            raise field_error("full_value", "This field is required.")
        return Response(201, self.state.render_node(self.state.ensure_path(full_value)))

    # ------------------------------------------------------------------ database assets
    def list_assets(self, request: Request) -> Response:
        assets = list(self.state.assets.values())
        for key, attribute in (("name", "name"), ("address", "address")):
            if key in request.query:
                assets = [asset for asset in assets if getattr(asset, attribute) == request.query[key]]
        if "is_active" in request.query:
            wanted = request.query["is_active"].lower() in ("1", "true")
            assets = [asset for asset in assets if asset.is_active == wanted]
        return self.page(request, [self.state.render_asset(asset) for asset in assets])

    def get_asset(self, request: Request, id: str) -> Response:
        return Response(200, self.state.render_asset(self._asset(id)))

    def create_asset(self, request: Request) -> Response:
        body = _object(request.body)
        errors: dict[str, list[str]] = {}
        name = body.get("name")
        if not isinstance(name, str) or not name:
            errors["name"] = ["This field is required."]
        elif len(name) > 128:
            errors["name"] = ["Ensure this field has no more than 128 characters."]
        elif any(asset.name == name for asset in self.state.assets.values()):
            errors["name"] = ["This field must be unique."]
        if not isinstance(body.get("address"), str) or not body.get("address"):
            errors["address"] = ["This field is required."]
        platform = self._platform_of(body.get("platform"), errors)
        protocol_type = self.state.platform(platform)[1] if platform else None
        if protocol_type == "postgresql" and not body.get("db_name"):
            errors["db_name"] = ["This field is required."]
        node_ids = self._node_ids(body.get("nodes"), errors)
        protocols = self._protocols(body.get("protocols"), platform)
        if errors:
            raise ApiError(400, errors)
        asset = Asset(
            id=str(uuid.uuid4()),
            name=name,
            address=body["address"],
            platform=platform,
            db_name=body.get("db_name") or "",
            protocols=protocols,
            node_ids=node_ids or [self.state.root.id],
            labels=_labels(body.get("labels")),
            is_active=bool(body.get("is_active", True)),
            comment=str(body.get("comment", "")),
            created=request.now,
        )
        accounts = [self._account(asset.id, item, request.now) for item in body.get("accounts") or []]
        self.state.assets[asset.id] = asset
        for account in accounts:
            self.state.accounts[account.id] = account
        return Response(201, self.state.render_asset(asset))

    def update_asset(self, request: Request, id: str) -> Response:
        asset = self._asset(id)
        body = _object(request.body)
        errors: dict[str, list[str]] = {}
        if "name" in body and any(a.name == body["name"] and a.id != id for a in self.state.assets.values()):
            errors["name"] = ["This field must be unique."]
        platform = self._platform_of(body["platform"], errors) if "platform" in body else asset.platform
        node_ids = self._node_ids(body["nodes"], errors) if "nodes" in body else asset.node_ids
        if errors:
            raise ApiError(400, errors)
        for key in ("name", "address", "db_name", "comment"):
            if key in body:
                setattr(asset, key, body[key])
        if "is_active" in body:
            asset.is_active = bool(body["is_active"])
        if "labels" in body:
            asset.labels = _labels(body["labels"])
        if "protocols" in body:
            asset.protocols = self._protocols(body["protocols"], platform)
        asset.platform, asset.node_ids = platform, node_ids or [self.state.root.id]
        if self.state.version == "v4":  # v3 ignores inline accounts on update; v4 upserts them
            for item in body.get("accounts") or []:
                self._upsert_account(asset.id, item, request.now)
        return Response(200, self.state.render_asset(asset))

    def delete_asset(self, request: Request, id: str) -> Response:
        asset = self._asset(id)
        del self.state.assets[asset.id]
        for account_id in [a.id for a in self.state.accounts.values() if a.asset_id == asset.id]:
            del self.state.accounts[account_id]
        return Response(204)

    def _asset(self, asset_id: str) -> Asset:
        asset = self.state.assets.get(asset_id)
        if asset is None:
            raise not_found("Database")
        return asset

    def _platform_of(self, value: Any, errors: dict[str, list[str]]) -> str | None:
        if isinstance(value, dict):
            value = value.get("pk")
        if isinstance(value, str):
            raise INTERNAL_ERROR  # a platform name instead of its id: a 500 on both versions
        if value is None:
            errors["platform"] = ["This field is required."]
            return None
        name = self.state.platform_by_id(value) if isinstance(value, int) else None
        if name is None:
            errors["platform"] = [f'Invalid pk "{value}" - object does not exist.']
        return name

    def _node_ids(self, value: Any, errors: dict[str, list[str]]) -> list[str]:
        ids = list(value or [])
        unknown = [node_id for node_id in ids if node_id not in self.state.nodes]
        if unknown:
            errors["nodes"] = [f'Invalid pk "{unknown[0]}" - object does not exist.']
        return ids

    def _protocols(self, value: Any, platform: str | None) -> list[dict[str, Any]]:
        if not value:
            protocol = self.state.platform(platform)[1] if platform else "postgresql"
            return [{"name": protocol, "port": {"mysql": 3306, "mariadb": 3306}.get(protocol, 5432)}]
        protocols = []
        for item in value:
            if not isinstance(item, dict) or "port" not in item:
                raise INTERNAL_ERROR  # a protocol without a port: a 500 on both versions
            if item.get("name") not in PROTOCOLS:
                raise field_error("protocols", f'"{item.get("name")}" is not a valid choice.')
            protocols.append({"name": item["name"], "port": int(item["port"])})
        return protocols

    # ------------------------------------------------------------------ accounts
    def list_accounts(self, request: Request) -> Response:
        accounts = list(self.state.accounts.values())
        filters = ("asset", "username", "id") + (
            ("name",) if self.state.version == "v4" else ()
        )  # v3: no name filter
        for key in filters:
            if key in request.query:
                attribute = "asset_id" if key == "asset" else key
                accounts = [a for a in accounts if getattr(a, attribute) == request.query[key]]
        return self.page(request, [self.state.render_account(account) for account in accounts])

    def create_account(self, request: Request) -> Response:
        body = _object(request.body)
        if body.get("asset") not in self.state.assets:
            raise field_error("asset", "This field is required.")
        account = self._upsert_account(body["asset"], body, request.now)
        return Response(201, self.state.render_account(account))

    def update_account(self, request: Request, id: str) -> Response:
        account = self.state.accounts.get(id)
        if account is None:
            raise not_found("Account")
        body = _object(request.body)
        if "secret" in body:
            account.secret = str(body["secret"])
        if "name" in body:
            account.name = str(body["name"])
        return Response(200, self.state.render_account(account))

    def _upsert_account(self, asset_id: str, item: dict[str, Any], now: float) -> Account:
        same = (item.get("name"), item.get("username"))
        existing = next(
            (
                a
                for a in self.state.accounts.values()
                if a.asset_id == asset_id and {a.name, a.username} & set(same)
            ),
            None,
        )
        if existing is None:
            account = self._account(asset_id, item, now)
            self.state.accounts[account.id] = account
            return account
        if item.get("on_invalid") != "update":
            raise ApiError(400, ["Account already exists"])
        existing.secret = str(item.get("secret", existing.secret))
        return existing

    def _account(self, asset_id: str, item: dict[str, Any], now: float) -> Account:
        if not item.get("name") or not item.get("username"):
            raise ApiError(400, {"accounts": [{"username": ["This field is required."]}]})
        return Account(
            id=str(uuid.uuid4()),
            asset_id=asset_id,
            name=str(item["name"]),
            username=str(item["username"]),
            secret=str(item.get("secret", "")),
            privileged=bool(item.get("privileged", False)),
            created=now,
        )

    # ------------------------------------------------------------------ asset permissions
    def list_permissions(self, request: Request) -> Response:
        permissions = list(self.state.permissions.values())
        if "name" in request.query:
            permissions = [p for p in permissions if p.name == request.query["name"]]
        return self.page(request, [self.state.render_permission(p) for p in permissions])

    def create_permission(self, request: Request) -> Response:
        body = _object(request.body)
        if not body.get("name"):
            raise field_error("name", "This field is required.")
        if any(p.name == body["name"] for p in self.state.permissions.values()):
            raise field_error("name", "This field must be unique.")
        permission = Permission(
            id=str(uuid.uuid4()),
            name=body["name"],
            users=list(body.get("users") or []),
            assets=list(body.get("assets") or []),
            nodes=list(body.get("nodes") or []),
            accounts=list(body.get("accounts") or []),
            protocols=list(body.get("protocols") or ["all"]),
            is_active=bool(body.get("is_active", True)),
            created=request.now,
        )
        self.state.permissions[permission.id] = permission
        return Response(201, self.state.render_permission(permission))

    def update_permission(self, request: Request, id: str) -> Response:
        permission = self.state.permissions.get(id)
        if permission is None:
            raise not_found("AssetPermission")
        for key, value in _object(request.body).items():
            if key in ("users", "assets", "nodes", "accounts", "protocols", "is_active", "name"):
                setattr(permission, key, value)
        return Response(200, self.state.render_permission(permission))

    # ------------------------------------------------------------------ connection tokens
    def list_tokens(self, request: Request) -> Response:
        live = [t for t in self.state.tokens.values() if t.expires > request.now]
        live.sort(key=lambda token: token.created, reverse=True)  # newest first, as JumpServer lists them
        return self.page(request, [self.state.render_token(t, request.now) for t in live])

    def create_token(self, request: Request, admin: bool = False) -> Response:
        body = _object(request.body)
        errors = {
            key: ["This field is required."]
            for key in ("asset", "account", "connect_method")
            if not body.get(key)
        }
        if errors:
            raise self._token_validation(errors)
        asset = self.state.assets.get(body["asset"])
        if asset is None:
            raise self._token_validation(
                {"asset": [f'Invalid pk "{body["asset"]}" - object does not exist.']}
            )
        protocol = body.get("protocol") or "ssh"  # JumpServer's default: always send it
        account = self._token_account(asset, body["account"], by_name_or_id=admin)
        if account is None or (not admin and not self._permitted(asset, account, protocol)):
            raise ApiError(400, {"code": "perm_account_invalid", "detail": "Account not found"})
        token = self.state.new_token(
            asset.id,
            body["account"],
            protocol,
            str(body["connect_method"]),
            bool(body.get("is_reusable")),
            request.now,
        )
        return Response(201, self.state.render_token(token, request.now))

    def _token_validation(self, errors: dict[str, list[str]]) -> ApiError:
        if self.state.version == "v4":  # v4.10 flattens this endpoint's validation errors
            return ApiError(
                400, {"detail": "; ".join(message for messages in errors.values() for message in messages)}
            )
        return ApiError(400, errors)

    def _token_account(self, asset: Asset, reference: str, *, by_name_or_id: bool) -> Account | None:
        if reference in ("@INPUT", "@USER"):
            return Account(reference, asset.id, reference, reference, "")
        accounts = [a for a in self.state.accounts.values() if a.asset_id == asset.id]
        by_id = self.state.version == "v4"  # v3 takes the account's name, v4.9+ its UUID
        return next(
            (
                a
                for a in accounts
                if reference in ((a.id, a.name) if by_name_or_id else (a.id if by_id else a.name,))
            ),
            None,
        )

    def _permitted(self, asset: Asset, account: Account, protocol: str) -> bool:
        reachable = {node for node_id in asset.node_ids for node in self.state.ancestors(node_id)}
        for permission in self.state.permissions.values():
            if not permission.is_active or self.state.service_user.id not in permission.users:
                continue
            covers_asset = asset.id in permission.assets or reachable & set(permission.nodes)
            covers_account = "@ALL" in permission.accounts or account.name in permission.accounts
            covers_protocol = "all" in permission.protocols or protocol in permission.protocols
            if covers_asset and covers_account and covers_protocol:
                return True
        return False

    def get_token(self, request: Request, id: str) -> Response:
        return Response(200, self.state.render_token(self._live_token(id, request), request.now))

    def delete_token(self, request: Request, id: str) -> Response:
        return Response(405, {"detail": 'Method "DELETE" not allowed.', "code": "method_not_allowed"})

    def reuse_token(self, request: Request, id: str) -> Response:
        token = self._live_token(id, request)
        reusable = bool(_object(request.body).get("is_reusable"))
        if reusable and not self.state.reusable_allowed:
            raise ApiError(
                400, {"detail": "Reusable connection token is not allowed, global setting not enabled"}
            )
        token.is_reusable = reusable
        if reusable:
            token.expires = token.created + self.state.reusable_seconds
        body = {"id": token.id, "is_reusable": token.is_reusable, "date_expired": format_date(token.expires)}
        return Response(200, body)

    def expire_token(self, request: Request, id: str) -> Response:
        self._live_token(id, request).expires = request.now
        return Response(204)

    def token_options(self, request: Request) -> Response:
        return Response(200, TEMPLATES[self.state.version]["token_options"])

    def _live_token(self, token_id: str, request: Request):
        if not _is_uuid(token_id):
            if self.state.version == "v4":
                raise INTERNAL_ERROR  # v4 answers a non-UUID id with a 500
            raise not_found("Object")
        token = self.state.live_token(token_id, request.now)
        if token is None:
            raise not_found("ConnectionToken")
        return token

    # ------------------------------------------------------------------ v4.8+ admin tokens
    def list_admin_tokens(self, request: Request) -> Response:
        if self.state.version == "v3":
            raise ROUTE_NOT_FOUND
        return self.list_tokens(request)

    def create_admin_token(self, request: Request) -> Response:
        if self.state.version == "v3":
            raise ROUTE_NOT_FOUND
        return self.create_token(request, admin=True)


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    return body


def _labels(value: Any) -> list[str]:
    labels = []
    for label in value or []:
        text = f"{label['name']}:{label['value']}" if isinstance(label, dict) else str(label)
        if ":" not in text:
            raise field_error("labels", "Label must be in the format 'name:value'")
        labels.append(text)
    return labels


def _integer(value: str, name: str) -> int:
    try:
        return max(int(value), 0)
    except ValueError:
        raise field_error(name, "A valid integer is required.") from None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

"""Asset permissions, and which account a permission lets the caller ask a connection token for.

The endpoint is apps/perms/api/asset_permission.py AssetPermissionViewSet with
apps/perms/serializers/permission.py AssetPermissionSerializer. Which permissions apply is
apps/perms/utils/permission.py AssetPermissionUtil.get_permissions_for_user_asset; what their
`accounts` grant is apps/perms/utils/asset_perm.py PermAssetDetailUtil (parse_alias_action_date_expire,
map_alias_to_accounts, validate_permission), which v3.10.23 reaches from
ConnectionTokenViewSet._validate_perm (apps/authentication/api/connection_token.py) and v4.10.16
through apps/authentication/models/connection_token.py ConnectionToken.get_user_permed_account. A
token names the account by apps/accounts/models/account.py Account.alias. The same at both tags but
for the alias and `!username`, which only v4 reads."""

from __future__ import annotations

import uuid
from typing import Any

from jumpserver_sim.drf import (
    DETAIL,
    ApiError,
    Request,
    Response,
    Route,
    char_error,
    field_error,
    not_found,
    object_body,
    parse_date,
)
from jumpserver_sim.pagination import page
from jumpserver_sim.state import Account, Asset, Permission, State

VIRTUAL_ACCOUNTS = ("@INPUT", "@ANON", "@USER")


class AssetPermissions:
    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            ("GET", r"/api/v1/perms/asset-permissions/", self.list_permissions),
            ("POST", r"/api/v1/perms/asset-permissions/", self.create_permission),
            ("PATCH", rf"/api/v1/perms/asset-permissions/{DETAIL}/", self.update_permission),
        ]

    def list_permissions(self, request: Request) -> Response:
        permissions = list(self.state.permissions.values())
        if "name" in request.query:
            permissions = [p for p in permissions if p.name == request.query["name"]]
        return page(request, [self.state.render_permission(p) for p in permissions], self.state.version)

    def create_permission(self, request: Request) -> Response:
        """AssetPermissionSerializer: only `name` is required; the dates default to now .. now +
        ASSET_PERMISSION_DEFAULT_EXPIRED_DAYS (here: unbounded)."""
        body = object_body(request.body)
        if not body.get("name"):
            raise field_error("name", "This field is required.")
        errors: dict[str, Any] = {}
        message = char_error(body["name"], 128)
        if message:
            errors["name"] = [message]
        dates = {key: parse_date(body.get(key), key, errors) for key in ("date_start", "date_expired")}
        if errors:
            raise ApiError(400, errors)
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
            date_start=dates["date_start"],
            date_expired=dates["date_expired"],
        )
        self.state.permissions[permission.id] = permission
        return Response(201, self.state.render_permission(permission))

    def update_permission(self, request: Request, id: str) -> Response:
        permission = self.state.permissions.get(id)
        if permission is None:
            raise not_found("AssetPermission")
        body = object_body(request.body)
        errors: dict[str, Any] = {}
        dates = {
            key: parse_date(body[key], key, errors) for key in ("date_start", "date_expired") if key in body
        }
        if errors:
            raise ApiError(400, errors)
        for key, value in body.items():
            if key in ("users", "assets", "nodes", "accounts", "protocols", "is_active", "name"):
                setattr(permission, key, value)
        for key, value in dates.items():
            setattr(permission, key, value)
        return Response(200, self.state.render_permission(permission))


def permitted_account(state: State, asset: Asset, alias: str, protocol: str, now: float) -> Account | None:
    """PermAssetDetailUtil.validate_permission: the caller's permitted account of the asset whose
    Account.alias the token request names, if a permission also covers the protocol."""
    if not _protocol_permitted(state, asset, protocol, now):
        return None
    return next((a for a in _permitted_accounts(state, asset, now) if _alias(state, a) == alias), None)


def _alias(state: State, account: Account) -> str:
    """Account.alias: a virtual account's username, else the name up to v4.8 and the id from v4.9."""
    if account.username.startswith("@"):
        return account.username
    return account.id if state.version == "v4" else account.name


def _permitted_accounts(state: State, asset: Asset, now: float) -> list[Account]:
    """parse_alias_action_date_expire + map_alias_to_accounts: each entry of a permission's
    `accounts` is an account *username* or an alias; a name or id grants nothing. @ALL is every
    active account's username; "!username" excludes (v4 only); @SPEC and other "@x" are skipped;
    @INPUT/@ANON/@USER are virtual accounts only when listed."""
    entries: set[str] = set()
    for permission in _permissions_for(state, asset, now):
        entries |= set(permission.accounts)
    mine = [a for a in state.accounts.values() if a.asset_id == asset.id and a.is_active]
    if "@ALL" in entries:
        entries |= {account.username for account in mine}
    if state.version == "v4":  # the action bits of "!username" are subtracted
        entries -= {entry[1:] for entry in entries if entry.startswith("!")}
    permitted = [account for account in mine if account.username in entries]
    user = state.service_user
    for alias in VIRTUAL_ACCOUNTS:
        if alias not in entries:
            continue
        if alias == "@USER" and any(a.username == user.username for a in mine):
            permitted += [a for a in mine if a.username == user.username and a not in permitted]
        else:
            permitted.append(Account(alias, asset.id, alias, alias, ""))
    return permitted


def _permissions_for(state: State, asset: Asset, now: float) -> list[Permission]:
    """AssetPermissionUtil.get_permissions_for_user_asset: active, within its dates, naming the user
    and the asset directly or through a node above it."""
    reachable = {node for node_id in asset.node_ids for node in state.ancestors(node_id)}
    return [
        permission
        for permission in state.permissions.values()
        if permission.is_active
        and state.service_user.id in permission.users
        and (permission.date_start is None or permission.date_start <= now)
        and (permission.date_expired is None or now < permission.date_expired)
        and (asset.id in permission.assets or reachable & set(permission.nodes))
    ]


def _protocol_permitted(state: State, asset: Asset, protocol: str, now: float) -> bool:
    protocols = {p for permission in _permissions_for(state, asset, now) for p in permission.protocols}
    return "all" in protocols or protocol in protocols

"""Connection tokens: apps/authentication/api/connection_token.py ConnectionTokenViewSet (its `reuse`
and `expire` actions; http_method_names has no DELETE, so the router's 405 answers one) with
apps/authentication/serializers/connection_token.py ConnectionTokenSerializer and
apps/authentication/models/connection_token.py ConnectionToken (a new token lives 300 s,
date_expired_default; set_reusable), the same at v3.10.23 and v4.10.16. v4 adds
AdminConnectionTokenViewSet (admin-connection-token, since v4.8): for superusers, and blind to asset
permissions (AdminConnectionToken.get_user_permed_account)."""

from __future__ import annotations

from typing import Any

from jumpserver_sim.drf import (
    DETAIL,
    INTERNAL_ERROR,
    MISSING,
    PERMISSION_DENIED,
    ApiError,
    Request,
    Response,
    Route,
    boolean,
    char_error,
    field_error,
    invalid_pk,
    is_uuid,
    not_found,
    object_body,
)
from jumpserver_sim.pagination import page
from jumpserver_sim.permissions import permitted_account
from jumpserver_sim.state import ONETIME_SECONDS, TEMPLATES, Account, Asset, State, Token, format_date

TOKENS = "/api/v1/authentication/connection-token/"
ADMIN_TOKENS = "/api/v1/authentication/admin-connection-token/"


class ConnectionTokens:
    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        routes: list[Route] = [
            ("GET", TOKENS, self.list_tokens),
            ("POST", TOKENS, self.create_token),
            ("OPTIONS", TOKENS, self.token_options),
            ("GET", rf"{TOKENS}{DETAIL}/", self.get_token),
            ("PATCH", rf"{TOKENS}{DETAIL}/reuse/", self.reuse_token),
            ("PATCH", rf"{TOKENS}{DETAIL}/expire/", self.expire_token),
        ]
        if self.state.version == "v4":
            routes += [
                ("GET", ADMIN_TOKENS, self.list_admin_tokens),
                ("POST", ADMIN_TOKENS, self.create_admin_token),
            ]
        return routes

    def list_tokens(self, request: Request) -> Response:
        """ConnectionTokenViewSet.get_queryset: the caller's live tokens of every type, in
        ConnectionToken.Meta.ordering = ('-date_expired',)."""
        live = [t for t in self.state.tokens.values() if t.expires > request.now]
        return self._newest_first(request, live)

    def create_token(self, request: Request, admin: bool = False) -> Response:
        """ConnectionTokenSerializer: `account` and `connect_method` required, `asset` nullable; DRF's
        error dict on both versions (the flattened {"detail": ...} only arrives in v4.10.17)."""
        body = object_body(request.body)
        self._check_token_fields(body)
        asset_id = body.get("asset")
        if asset_id is None:
            raise INTERNAL_ERROR  # ConnectionTokenViewSet._validate: asset.org_id on None
        asset = self.state.assets[str(asset_id)]
        protocol = body.get("protocol") or "ssh"  # JumpServer's default: always send it
        account = self._token_account(asset, str(body["account"]), protocol, admin=admin, now=request.now)
        if account is None:
            raise ApiError(400, {"code": "perm_account_invalid", "detail": "Account not found"})
        token = self.state.new_token(
            asset.id,
            body["account"],
            protocol,
            str(body["connect_method"]),
            boolean(body.get("is_reusable")) is True,
            request.now,
            admin=admin,
        )
        return Response(201, self.state.render_token(token, request.now))

    def get_token(self, request: Request, id: str) -> Response:
        return Response(200, self.state.render_token(self._live_token(id, request), request.now))

    def reuse_token(self, request: Request, id: str) -> Response:
        """ExtraActionApiMixin.reuse + ConnectionToken.set_reusable: refused whatever the body says
        unless CONNECTION_TOKEN_REUSABLE; else the token expires at date_created +
        (REUSABLE_EXPIRATION if is_reusable else 300 s)."""
        token = self._live_token(id, request)
        if not self.state.reusable_allowed:  # a ValidationError(str): a non-field list
            raise ApiError(400, ["Reusable connection token is not allowed, global setting not enabled"])
        reusable = boolean(object_body(request.body).get("is_reusable", False))
        if reusable is None:
            raise field_error("is_reusable", "Must be a valid boolean.")
        token.is_reusable = reusable
        token.expires = token.created + (self.state.reusable_seconds if reusable else ONETIME_SECONDS)
        body = {"id": token.id, "is_reusable": token.is_reusable, "date_expired": format_date(token.expires)}
        return Response(200, body)

    def expire_token(self, request: Request, id: str) -> Response:
        self._live_token(id, request).expires = request.now
        return Response(204)

    def token_options(self, request: Request) -> Response:
        return Response(200, TEMPLATES[self.state.version]["token_options"])

    def list_admin_tokens(self, request: Request) -> Response:
        """AdminConnectionTokenViewSet.get_queryset: the caller's admin tokens, expired included."""
        self._check_superuser()
        return self._newest_first(request, [t for t in self.state.tokens.values() if t.admin])

    def create_admin_token(self, request: Request) -> Response:
        self._check_superuser()
        return self.create_token(request, admin=True)

    def _newest_first(self, request: Request, tokens: list[Token]) -> Response:
        tokens = sorted(tokens, key=lambda token: token.expires, reverse=True)
        return page(request, [self.state.render_token(t, request.now) for t in tokens], self.state.version)

    def _check_token_fields(self, body: dict[str, Any]) -> None:
        errors: dict[str, Any] = {}
        for key in ("account", "connect_method"):
            message = char_error(body.get(key, MISSING), 128 if key == "account" else 32)
            if message:
                errors[key] = [message]
        asset_id = body.get("asset")
        if asset_id is not None:
            if not is_uuid(str(asset_id)):
                errors["asset"] = [f"“{asset_id}” is not a valid UUID."]
            elif str(asset_id) not in self.state.assets:
                errors["asset"] = [invalid_pk(asset_id)]
        if errors:
            raise ApiError(400, errors)

    def _token_account(
        self, asset: Asset, alias: str, protocol: str, *, admin: bool, now: float
    ) -> Account | None:
        """The account a token request names, if the caller may use it. Admin tokens skip
        permissions: AdminConnectionToken.get_asset_accounts_by_alias takes the id if a UUID, else
        the name, among the asset's active accounts."""
        if not admin:
            return permitted_account(self.state, asset, alias, protocol, now)
        key = "id" if is_uuid(alias) else "name"
        mine = (a for a in self.state.accounts.values() if a.asset_id == asset.id and a.is_active)
        return next((account for account in mine if getattr(account, key) == alias), None)

    def _live_token(self, token_id: str, request: Request) -> Token:
        if not is_uuid(token_id):
            if self.state.version == "v4" and not token_id.isdigit():
                raise INTERNAL_ERROR  # QuerySetMixin.get_object: .get(name=...) is a FieldError
            raise not_found("Object")
        token = self.state.live_token(token_id, request.now)
        if token is None:
            raise not_found("ConnectionToken")
        return token

    def _check_superuser(self) -> None:
        if not self.state.service_user.is_superuser:  # AdminConnectionTokenViewSet.check_permissions
            raise PERMISSION_DENIED

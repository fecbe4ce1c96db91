"""Accounts and account templates: apps/accounts/api/account/account.py AccountViewSet, filtered by
apps/accounts/filters.py AccountFilterSet; apps/accounts/serializers/account/account.py
AccountSerializer with its AccountCreateUpdateSerializerMixin (set_uniq_name_if_need,
from_template_if_need, do_create and the apps/accounts/const/account.py AccountInvalidPolicy), also
behind an asset's inline `accounts` (AssetSerializer.accounts_create); apps/accounts/api/account/
template.py and apps/accounts/serializers/account/template.py for a template's detail. Where
v3.10.23 and v4.10.16 differ (required username, how a duplicate is refused, the `name` filter, an
unknown asset in the list), each function says so."""

from __future__ import annotations

import uuid
from typing import Any

from jumpserver_sim.drf import (
    DETAIL,
    INTERNAL_ERROR,
    MISSING,
    ApiError,
    Request,
    Response,
    Route,
    boolean,
    char_error,
    field_error,
    is_uuid,
    not_a_dict,
    not_found,
    object_body,
)
from jumpserver_sim.pagination import page
from jumpserver_sim.state import SECRET_TYPES, Account, Asset, State

ON_INVALID = ("skip", "update", "error")  # AccountInvalidPolicy
PASSWORD = "password"  # noqa: S105 - the default secret_type
PASSWORD_RULE = "If the password starts with {{` and ends with }} `, then the password is not allowed."  # noqa: S105


class Accounts:
    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            ("GET", r"/api/v1/accounts/accounts/", self.list_accounts),
            ("POST", r"/api/v1/accounts/accounts/", self.create_account),
            ("PATCH", rf"/api/v1/accounts/accounts/{DETAIL}/", self.update_account),
            ("GET", rf"/api/v1/accounts/account-templates/{DETAIL}/", self.get_template),
        ]

    def list_accounts(self, request: Request) -> Response:
        """AccountFilterSet (exact filters). v3 has no `name` filter (it is ignored) but `hostname`
        filters the account name. v4 AccountViewSet.get_queryset first does
        get_object_or_404(Asset, pk=?asset or ?asset_id): an unknown asset is a 404."""
        query = request.query
        asset_id = query.get("asset") or query.get("asset_id")
        if self.state.version == "v4" and asset_id:
            if not is_uuid(asset_id):
                raise INTERNAL_ERROR  # Django's get_object_or_404: ValidationError on a UUIDField
            if asset_id not in self.state.assets:
                raise not_found("Asset")
        accounts = list(self.state.accounts.values())
        filters = {"asset": "asset_id", "asset_id": "asset_id", "assets": "asset_id", "username": "username"}
        filters |= {"id": "id", "hostname": "name", "secret_type": "secret_type"}
        if self.state.version == "v4":
            filters["name"] = "name"
        for key, attribute in filters.items():
            if key in query:
                accounts = [a for a in accounts if getattr(a, attribute) == query[key]]
        rendered = [self.state.render_account(account) for account in accounts]
        return page(request, rendered, self.state.version)

    def create_account(self, request: Request) -> Response:
        """AccountSerializer: __init__ -> set_initial_value, then field validation, then (v3, on_invalid
        "error" only) UniqueTogetherValidators / (v4) validate(), then create() -> do_create with the
        on_invalid policy."""
        data = dict(object_body(request.body))
        if not data.get("asset"):  # set_initial_value, in __init__: a string, not a list
            raise ApiError(400, {"asset": "This field is required."})
        _from_template(self.state, data, inline=False)
        _set_uniq_name(self.state, data, data.get("asset"))
        errors = _account_errors(self.state, data)
        asset_id = data.get("asset")
        if isinstance(asset_id, dict):
            asset_id = asset_id.get("id") or asset_id.get("pk")
        if str(asset_id) not in self.state.assets:  # AccountAssetSerializer.to_internal_value
            errors["asset"] = ["Asset not found"]
        if errors:
            raise ApiError(400, errors)
        account = _save_account(self.state, str(asset_id), data, request.now, inline=False)
        return Response(201, self.state.render_account(account))

    def update_account(self, request: Request, id: str) -> Response:
        """AccountCreateUpdateSerializerMixin.update: `username` and `on_invalid` are dropped (a new
        username is silently ignored), an empty secret is ignored (clean_auth_fields)."""
        account = self.state.accounts.get(id)
        if account is None:
            raise not_found("Account")
        body = object_body(request.body)
        if body.get("secret"):
            account.secret = str(body["secret"])
        if "name" in body:
            account.name = str(body["name"])
        for key in ("privileged", "is_active"):
            if key in body and boolean(body[key]) is not None:
                setattr(account, key, boolean(body[key]))
        account.source_id = None
        return Response(200, self.state.render_account(account))

    def get_template(self, request: Request, id: str) -> Response:
        template = self.state.templates.get(id)
        if template is None:
            raise not_found("AccountTemplate" if is_uuid(id) else "Object")
        return Response(200, self.state.render_template(template))


def create_inline_accounts(state: State, asset: Asset, accounts: Any, now: float) -> None:
    """AssetSerializer.accounts_create -> AssetAccountSerializer(data=..., many=True): the same
    account rules; errors are DRF's list with one dict per item ({} for a valid one)."""
    if not accounts:
        return
    if isinstance(accounts, dict):
        raise INTERNAL_ERROR  # accounts_data[0] on a dict: KeyError
    if not isinstance(accounts[0], dict):
        raise ApiError(400, {"accounts": "Invalid data"})
    items, item_errors = [], []
    for item in accounts:
        data = dict(item) if isinstance(item, dict) else {}
        data["asset"] = asset.id
        data.pop("id", None)  # AssetAccountSerializer.to_internal_value: a clone source
        _from_template(state, data, inline=True)
        _set_uniq_name(state, data, asset.id)
        items.append(data)
        item_errors.append(_account_errors(state, data) if isinstance(item, dict) else not_a_dict(item))
    if any(item_errors):
        raise ApiError(400, item_errors)
    for data in items:
        _save_account(state, asset.id, data, now, inline=True)


def _from_template(state: State, data: dict[str, Any], *, inline: bool) -> None:
    """from_template_if_need: the template's name, username, secret_type, secret, privileged and
    is_active replace whatever the client sent; source becomes "template"."""
    template_id = data.pop("template", None)
    if not template_id:
        return
    if not isinstance(template_id, str) or not is_uuid(template_id):
        raise INTERNAL_ERROR  # AccountTemplate.objects.filter(id=<not a UUID>), or an int as template
    template = state.templates.get(template_id)
    if template is None:
        if inline:  # AssetSerializer.accounts_create: AccountTemplate.objects.get(id=...)
            raise not_found("AccountTemplate")
        raise ApiError(400, {"template": "Template not found"})
    data.update(
        name=template.name,
        username=template.username,
        secret_type=template.secret_type,
        secret=template.secret,
        privileged=template.privileged,
        is_active=template.is_active,
        source="template",
        source_id=template.id,
    )
    asset_id = data.get("asset")
    if asset_id and not isinstance(asset_id, list) and not inline:
        # rest_framework.generics.get_object_or_404(Asset, pk=asset_id), for su_from
        if not is_uuid(str(asset_id)):
            raise not_found("Object")
        if str(asset_id) not in state.assets:
            raise not_found("Asset")


def _set_uniq_name(state: State, data: dict[str, Any], asset_id: Any) -> None:
    """set_uniq_name_if_need: no name -> the username, plus "_" and 4 hex digits when that name is
    taken on the asset (no name and no username -> name None, refused below)."""
    if data.get("name") is not None:
        return
    name = data.get("username")
    if name is not None and any(a.asset_id == asset_id and a.name == name for a in state.accounts.values()):
        name = f"{name}_{uuid.uuid4().hex[:4]}"
    data["name"] = name


def _account_errors(state: State, data: dict[str, Any]) -> dict[str, Any]:
    """Field validation. `username` is required on v3 only: v3's AccountSerializer keeps DRF's
    unique_together field kwargs (required=True); v4's sets Meta.validators = []."""
    errors: dict[str, Any] = {}
    message = char_error(data.get("name"), 128)
    if message:
        errors["name"] = [message]
    if "username" in data or state.version == "v3":
        message = char_error(data.get("username", MISSING), 128, allow_blank=True)
        if message:
            errors["username"] = [message]
    if data.get("secret_type", PASSWORD) not in SECRET_TYPES:
        errors["secret_type"] = [f'"{data["secret_type"]}" is not a valid choice.']
    if data.get("on_invalid") is not None and data["on_invalid"] not in ON_INVALID:
        errors["on_invalid"] = [f'"{data["on_invalid"]}" is not a valid choice.']
    for key in ("privileged", "is_active"):
        if key in data and boolean(data[key]) is None:
            errors[key] = ["Must be a valid boolean."]
    return errors


def _save_account(state: State, asset_id: str, data: dict[str, Any], now: float, *, inline: bool) -> Account:
    """do_create: a new account, or what the on_invalid policy makes of the one already there."""
    name, username = str(data["name"]), data.get("username")
    username = "" if username is None else str(username)
    secret_type = data.get("secret_type", PASSWORD)
    mine = [a for a in state.accounts.values() if a.asset_id == asset_id]
    same_username = [a for a in mine if a.username == username and a.secret_type == secret_type]
    same_name = [a for a in mine if a.name == name]
    if not inline:  # every inline item is validated before the first is saved: no clash yet
        _refuse_duplicate(state.version, data, bool(same_username), bool(same_name))
    secret = data.get("secret")
    secret = "" if secret is None else str(secret)
    if secret_type == PASSWORD and secret.startswith("{{") and secret.endswith("}}"):
        raise ApiError(400, [PASSWORD_RULE])  # clean_auth_fields -> validate_password_for_ansible
    existing = _existing_account(mine, name, username, same_username, data)
    values = _stored_values(data, name, username, secret_type, secret)
    if existing is None:
        account = Account(str(uuid.uuid4()), asset_id, name, username="", secret="", created=now)
        for key, value in values.items():
            setattr(account, key, value)
        state.accounts[account.id] = account
        return account
    policy = data.get("on_invalid", "error")
    if policy == "skip":
        return existing
    if policy == "update":
        for key, value in values.items():
            setattr(existing, key, value)
        return existing
    raise ApiError(400, ["Account already exists"])


def _refuse_duplicate(version: str, data: dict[str, Any], same_username: bool, same_name: bool) -> None:
    """Account.Meta.unique_together. v3: get_validators keeps DRF's UniqueTogetherValidators only for a
    literal on_invalid "error", and reports every clash; v4: AccountSerializer.validate, the first."""
    username_clash = same_username and "username" in data
    if version == "v3":
        if data.get("on_invalid") != "error":
            return
        clashes = []
        if username_clash:
            clashes.append("The fields username, asset, secret_type must make a unique set.")
        if same_name:
            clashes.append("The fields name, asset must make a unique set.")
        if clashes:
            raise ApiError(400, {"non_field_errors": clashes})
        return
    if username_clash:
        message = "Account already exists. Field(s): Username, Asset, Secret type must be unique."
        raise field_error("username", message)
    if same_name:
        raise field_error("name", "Account already exists. Field(s): Name, Asset must be unique.")


def _existing_account(
    mine: list[Account], name: str, username: str, same_username: list[Account], data: dict[str, Any]
) -> Account | None:
    """do_create's lookup: the asset's account with this name, or this username and secret type."""
    query_username = bool(username) and ("username" in data)
    if name or query_username:
        matches = (a for a in mine if (name and a.name == name) or (query_username and a in same_username))
        return next(matches, None)
    return mine[0] if mine else None  # an empty Q() matches every account of the asset


def _stored_values(
    data: dict[str, Any], name: str, username: str, secret_type: str, secret: str
) -> dict[str, Any]:
    """The fields do_create writes: those sent, with an empty secret left out."""
    source = data.get("source") or "local"
    values: dict[str, Any] = {"name": name, "secret_type": secret_type, "source": source}
    if "username" in data:
        values["username"] = username
    if secret:
        values["secret"] = secret
    for key in ("privileged", "is_active"):
        if key in data:
            values[key] = boolean(data[key])
    if "source_id" in data:
        values["source_id"] = data["source_id"]
    return values

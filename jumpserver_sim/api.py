"""JumpServer's REST endpoints as dbguard uses them, with the real servers' validation and quirks
(docs: ../shared/jumpserver-api.md; every exchange of the recordings replays in tests/contract).

"v3" is v3.10.23 and "v4" is v4.10.16: source references (apps/...) are to those tags; the audit
table is in docs/jumpserver.md, "Simulator audit against JumpServer's source"."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from jumpserver_sim.state import (
    ONETIME_SECONDS,
    PLATFORMS,
    SECRET_TYPES,
    SERVER_ZONE,
    TEMPLATES,
    Account,
    Asset,
    Permission,
    State,
    format_date,
)

PUBLIC_SETTINGS = "/api/v1/settings/public/"
UNCUT_LIST_LIMIT = 200  # v4 (from v4.10.8) silently cuts unpaginated lists
MAX_LIMIT = {"v3": 10000, "v4": 1000}  # conf.py MAX_LIMIT_PER_PAGE / MAX_PAGE_SIZE
# assets/serializers/asset/database.py set_db_name_required: types whose db_name is optional
DB_NAME_OPTIONAL = {
    "v3": {"mysql", "mariadb"},
    "v4": {"mysql", "mariadb", "oracle", "sqlserver", "db2", "dameng", "clickhouse", "redis"},
}
V4_ONLY = ("/api/v1/assets/directories/", "/api/v1/authentication/admin-connection-token/")
ON_INVALID = ("skip", "update", "error")  # accounts/const/account.py AccountInvalidPolicy
REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
NOT_BLANK = "This field may not be blank."
NUL_REFUSED = "Null characters are not allowed."  # django/core/validators.py ProhibitNullCharactersValidator
PASSWORD = "password"  # noqa: S105 - the default secret_type
PASSWORD_RULE = "If the password starts with {{` and ends with }} `, then the password is not allowed."  # noqa: S105
# rest_framework/fields.py BooleanField
TRUE_VALUES = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1", 1}
FALSE_VALUES = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0", 0}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    now: float
    raw_query: str = ""  # as sent, for the paginator's links
    host: str = ""  # the Host header; "" when the Api is called directly


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def not_found(kind: str) -> ApiError:
    return ApiError(404, {"detail": f"{kind} object does not exist.", "code": "object_does_not_exist"})


def field_error(name: str, message: str) -> ApiError:
    return ApiError(400, {name: [message]})


def invalid_pk(value: Any) -> str:
    return f'Invalid pk "{value}" - object does not exist.'


INTERNAL_ERROR = ApiError(500, {"error": "Server internal error"})
ROUTE_NOT_FOUND = ApiError(404, {"error": "Not found"})
PERMISSION_DENIED = ApiError(
    403, {"detail": "You do not have permission to perform this action.", "code": "permission_denied"}
)


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
            ("GET", r"/api/v1/assets/directories/", self.list_directories),
            ("POST", r"/api/v1/assets/databases/", self.create_asset),
            ("GET", rf"/api/v1/assets/databases/{uid}/", self.get_asset),
            ("PATCH", rf"/api/v1/assets/databases/{uid}/", self.update_asset),
            ("PUT", rf"/api/v1/assets/databases/{uid}/", self.update_asset),
            ("DELETE", rf"/api/v1/assets/databases/{uid}/", self.delete_asset),
            ("GET", r"/api/v1/accounts/accounts/", self.list_accounts),
            ("POST", r"/api/v1/accounts/accounts/", self.create_account),
            ("PATCH", rf"/api/v1/accounts/accounts/{uid}/", self.update_account),
            ("GET", rf"/api/v1/accounts/account-templates/{uid}/", self.get_template),
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

    def resolves(self, path: str) -> bool:
        """Whether a DRF view answers `path` on this version (else Django's 404, unauthenticated
        and unthrottled)."""
        static = TEMPLATES[self.state.version]["static"].get(path)
        if static is not None:
            return static["status"] != 404  # recorded as Django's {"error": "Not found"}
        if self.state.version == "v3" and path.startswith(V4_ONLY):
            return False
        return any(pattern.match(path) for _, pattern, _ in self.routes)

    def handle(self, request: Request) -> Response:
        static = TEMPLATES[self.state.version]["static"].get(request.path)
        if static is not None and request.method == "GET":
            body = static["json"]
            if request.path == PUBLIC_SETTINGS and isinstance(body, dict):  # the server's own setting
                body = {**body, "CONNECTION_TOKEN_REUSABLE": self.state.reusable_allowed}
            return Response(static["status"], body)
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
        """jumpserver/rewriting/pagination.py MaxLimitOffsetPagination (DRF LimitOffsetPagination):
        a limit that is not a positive integer means no pagination; a bad offset is 0; the links are
        absolute and keep every query parameter (rest_framework/utils/urls.py replace_query_param)."""
        limit = _positive_int(request.query.get("limit"), strict=True)
        if limit is None:  # v4 (common/api/mixin.py limit_queryset_if_no_page) cuts to 200 rows
            return Response(200, items[:UNCUT_LIST_LIMIT] if self.state.version == "v4" else items)
        limit = min(limit, MAX_LIMIT[self.state.version])
        offset = _positive_int(request.query.get("offset"), strict=False) or 0
        count = len(items)
        url = f"http://{request.host}{request.path}" if request.host else request.path
        url += f"?{request.raw_query}" if request.raw_query else ""
        next_url = None
        if offset + limit < count:
            next_url = _replace_query(url, limit=limit, offset=offset + limit)
        previous = None
        if offset > 0:
            previous = _replace_query(url, limit=limit, offset=offset - limit if offset - limit > 0 else None)
        window = items[offset : offset + limit]
        return Response(200, {"count": count, "next": next_url, "previous": previous, "results": window})

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
        """assets/serializers/node.py NodeSerializer: validate_value checks a sent `value` against
        the root's children; create() goes by full_value (Node.create_node_by_full_value) when it
        is non-empty, else makes a root child from `value`."""
        body = _object(request.body)
        root = self.state.root
        value = body.get("value", "")
        if "value" in body:
            if value is None:
                raise INTERNAL_ERROR  # validate_value(None): `'/' in None`
            message = _char_error(value, allow_blank=True)
            if message:
                raise field_error("value", message)
            value = str(value)
            if "/" in value:
                raise field_error("value", "Can't contains: /")
            if any(n.parent is root and n.value == value for n in self.state.nodes.values()):
                raise field_error("value", "The same level node name cannot be the same")
        full_value = body.get("full_value")
        if full_value is None and "full_value" in body:
            raise INTERNAL_ERROR  # NOT NULL constraint on Node.full_value
        if not full_value:
            return Response(201, self.state.render_node(self.state.add_child(root, value)))
        parts = [part for part in str(full_value).split("/") if part]
        if not parts or parts == [root.value]:
            # create_node_by_full_value: no segment is an IndexError; only the root's value makes
            # create_nodes_recurse return None, and serializer.save() asserts: both are a 500
            raise INTERNAL_ERROR
        return Response(201, self.state.render_node(self.state.ensure_path(str(full_value))))

    # ------------------------------------------------------------------ database assets
    def list_assets(self, request: Request) -> Response:
        # the filterset's form fields are Django CharFields: ProhibitNullCharactersValidator again,
        # answered by DjangoFilterBackend as a 400 of the form's errors
        refused = {key: [NUL_REFUSED] for key in ("name", "address") if "\x00" in request.query.get(key, "")}
        if refused:
            raise ApiError(400, refused)
        assets = list(self.state.assets.values())
        for key, attribute in (("name", "name"), ("address", "address")):
            if key in request.query:
                assets = [asset for asset in assets if getattr(asset, attribute) == request.query[key]]
        if "is_active" in request.query:
            wanted = request.query["is_active"].lower() in ("1", "true")
            assets = [asset for asset in assets if asset.is_active == wanted]
        return self.page(request, [self.state.render_asset(asset) for asset in assets])

    def list_directories(self, request: Request) -> Response:
        """Directory-service assets (assets/urls/api_urls.py registers them from v4.9.0): dbguard
        creates none; the route's existence is what tells a v4.9+ server from an older one."""
        if self.state.version == "v3":
            raise ROUTE_NOT_FOUND
        return self.page(request, [])

    def get_asset(self, request: Request, id: str) -> Response:
        return Response(200, self.state.render_asset(self._asset(id)))

    def create_asset(self, request: Request) -> Response:
        body = dict(_object(request.body))
        accounts = body.pop("accounts", None)  # AssetSerializer._extract_accounts, in __init__
        if body.get("protocols") is None:
            # AssetSerializer.is_valid -> _set_protocols_default -> _asset_platform, before any
            # field validation: {"platform": "Platform not exist"} (a string) or a 500
            platform = self._asset_platform(body.get("platform"), None)
            body["protocols"] = [dict(p) for p in self._default_protocols(platform)]
        values = self._validate_asset(body, None)
        asset = Asset(
            id=str(uuid.uuid4()),
            name=_trimmed(body["name"]),
            address=_trimmed(body["address"]),
            platform=values["platform"],
            db_name=_trimmed(body.get("db_name") or ""),
            protocols=values["protocols"],
            node_ids=values["nodes"] or [self.state.root.id],
            labels=values.get("labels", []),
            is_active=values.get("is_active", True),
            comment=str(body.get("comment") or ""),
            created=request.now,
        )
        self.state.assets[asset.id] = asset
        try:  # AssetSerializer.create is atomic: a refused account rolls the asset back
            self._inline_accounts(asset, accounts, request.now)
        except ApiError:
            self.state.assets.pop(asset.id)
            for account_id in [a.id for a in self.state.accounts.values() if a.asset_id == asset.id]:
                del self.state.accounts[account_id]
            raise
        return Response(201, self.state.render_asset(asset))

    def update_asset(self, request: Request, id: str) -> Response:
        """PATCH is partial; PUT validates like PATCH here (simplified). Inline `accounts` are
        ignored on both versions: _extract_accounts pops them and update() never reads them (the
        upsert only arrives in v4.10.19)."""
        asset = self._asset(id)
        body = dict(_object(request.body))
        body.pop("accounts", None)
        values = self._validate_asset(body, asset)
        for key in ("name", "address", "db_name", "comment"):
            if key in body and body[key] is not None:
                setattr(asset, key, _trimmed(body[key]))
        for key in ("is_active", "labels", "protocols", "platform"):
            if key in values:
                setattr(asset, key, values[key])
        if "nodes" in values:
            asset.node_ids = values["nodes"] or [self.state.root.id]
        return Response(200, self.state.render_asset(asset))

    def delete_asset(self, request: Request, id: str) -> Response:
        asset = self._asset(id)
        del self.state.assets[asset.id]
        for account_id in [a.id for a in self.state.accounts.values() if a.asset_id == asset.id]:
            del self.state.accounts[account_id]
        return Response(204)

    def _asset(self, asset_id: str) -> Asset:
        """The detail routes' get_object. v4 (common/api/mixin.py QuerySetMixin.get_object) looks a
        pk that is neither a UUID nor all digits up by name; otherwise DRF's get_object_or_404
        turns a non-UUID into a bare Http404, "Object object does not exist."."""
        asset = self.state.assets.get(asset_id)
        if asset is not None:
            return asset
        if _is_uuid(asset_id):
            raise not_found("Database")
        if self.state.version == "v4" and not asset_id.isdigit():
            found = next((a for a in self.state.assets.values() if a.name == asset_id), None)
            if found is None:
                raise not_found("Database")
            return found
        raise not_found("Object")

    def _validate_asset(self, body: dict[str, Any], asset: Asset | None) -> dict[str, Any]:
        """DatabaseSerializer field validation (partial when `asset` is given), then its
        validators. Returns the validated values that are not plain strings."""
        partial = asset is not None
        errors: dict[str, Any] = {}
        values: dict[str, Any] = {}
        for key, max_length in (("name", 128), ("address", 767), ("comment", None)):
            if key in body or (not partial and key != "comment"):
                message = _char_error(body.get(key, _MISSING), max_length, allow_blank=key == "comment")
                if message:
                    errors[key] = [message]
        if "platform" in body or not partial:
            platform = self._platform_field(body.get("platform", _MISSING), errors)
            if platform is not None:
                values["platform"] = platform
        platform = values.get("platform") or (asset.platform if asset else None)
        db_name_required = not partial and (
            platform is None or self.state.platform(platform)[1] not in DB_NAME_OPTIONAL[self.state.version]
        )  # set_db_name_required: it stays required when the platform is unknown
        if "db_name" in body or db_name_required:
            message = _char_error(body.get("db_name", _MISSING), 1024, allow_blank=not db_name_required)
            if message:
                errors["db_name"] = [message]
        if "nodes" in body or not partial:
            values["nodes"] = self._node_ids(body.get("nodes"), errors)
        if "labels" in body:
            values["labels"] = self._labels(body["labels"], errors)
        if "is_active" in body:
            active = _boolean(body["is_active"])
            if active is None:
                errors["is_active"] = ["Must be a valid boolean."]
            values["is_active"] = active
        if "protocols" in body:
            protocols = self._protocols(body["protocols"], errors)
            if protocols is not None:  # AssetSerializer.validate_protocols, on valid items only
                try:
                    platform = self._asset_platform(body.get("platform"), asset)
                except ApiError as error:  # raised in a field validator: nested under "protocols"
                    if error.status != 400:
                        raise
                    errors["protocols"] = error.body
                else:
                    names = {p["name"] for p in protocols}
                    primary = self.state.platform(platform)[1]
                    if primary not in names:
                        errors["protocols"] = {"protocols": f"Protocol is required: {primary}"}
                    values["protocols"] = protocols
        if errors:
            raise ApiError(400, errors)
        # serializer validators run only once every field is valid: Asset.Meta.unique_together
        # (org_id, name) as common/validators.py ProjectUniqueValidator
        name = body.get("name")
        if name is not None and any(
            a.name == _trimmed(name) and a is not asset for a in self.state.assets.values()
        ):
            raise field_error("name", "This field must be unique.")
        if any(p.get("port") is None for p in values.get("protocols", [])):
            raise INTERNAL_ERROR  # saving a Protocol without a port: NOT NULL constraint
        return values

    def _asset_platform(self, value: Any, asset: Asset | None) -> str:
        """AssetSerializer._asset_platform: Platform.objects.filter(id=value).first()."""
        if isinstance(value, dict):
            value = value.get("id") or value.get("pk")
        if not value and asset is not None:
            return asset.platform
        if value is None:
            name = None
        else:
            platform_id = _django_int(value)  # filter(id="PostgreSQL") raises ValueError: a 500
            name = self.state.platform_by_id(platform_id)
        if name is None:
            raise ApiError(400, {"platform": "Platform not exist"})
        return name

    def _platform_field(self, value: Any, errors: dict[str, Any]) -> str | None:
        """The `platform` field, common/serializers/fields.py ObjectRelatedField (required)."""
        if value is _MISSING:
            errors["platform"] = [REQUIRED]
            return None
        if value is None:
            errors["platform"] = [NOT_NULL]
            return None
        pk = value.get("id") or value.get("pk") if isinstance(value, dict) else value
        try:
            if isinstance(pk, bool):
                raise TypeError
            platform_id = int(pk)  # Django's IntegerField lookup: int(value)
        except (TypeError, ValueError):
            errors["platform"] = [f"Incorrect type. Expected pk value, received {type(pk).__name__}."]
            return None
        name = self.state.platform_by_id(platform_id)
        if name is None:
            errors["platform"] = [invalid_pk(pk)]
        return name

    def _default_protocols(self, platform: str) -> list[dict[str, Any]]:
        protocol = self.state.platform(platform)[1]
        return [{"name": protocol, "port": {"mysql": 3306, "mariadb": 3306}.get(protocol, 5432)}]

    def _protocols(self, value: Any, errors: dict[str, Any]) -> list[dict[str, Any]] | None:
        """AssetProtocolsSerializer(many=True): `name` a free string up to 32 characters (there is
        no choice list), `port` optional and nullable, 0..65535. Per-item errors as DRF's list."""
        if not isinstance(value, list):
            kind = type(value).__name__
            errors["protocols"] = {"non_field_errors": [f'Expected a list of items but got type "{kind}".']}
            return None
        items: list[dict[str, Any]] = []
        item_errors: list[dict[str, Any]] = []
        for item in value:
            problems: dict[str, Any] = {}
            if not isinstance(item, dict):
                item_errors.append(_not_a_dict(item))
                continue
            message = _char_error(item.get("name", _MISSING), 32)
            if message:
                problems["name"] = [message]
            port = item.get("port")
            if port is not None:
                try:
                    port = _drf_int(port)
                except ValueError:
                    problems["port"] = ["A valid integer is required."]
                else:
                    if port > 65535:
                        problems["port"] = ["Ensure this value is less than or equal to 65535."]
                    elif port < 0:
                        problems["port"] = ["Ensure this value is greater than or equal to 0."]
            item_errors.append(problems)
            items.append({"name": str(item.get("name")), "port": port})
        if any(item_errors):
            errors["protocols"] = item_errors
            return None
        return list({p["name"]: p for p in items}.values())  # validate_protocols: one per name

    def _node_ids(self, value: Any, errors: dict[str, Any]) -> list[str]:
        ids = list(value or [])
        unknown = [node_id for node_id in ids if node_id not in self.state.nodes]
        if unknown:
            errors["nodes"] = [invalid_pk(unknown[0])]
        return ids

    def _labels(self, value: Any, errors: dict[str, Any]) -> list[str]:
        """common/serializers/fields.py LabelRelatedField.to_internal_value. v4: "k:v" (both parts
        stripped), {name, value}, {id} or a label id; anything else is 400 "Invalid data type".
        v3: a dict must carry an id, anything else is split on ":" (no ":" is a 500)."""
        labels = []
        for label in value or []:
            if label is None:
                continue
            if isinstance(label, dict) and (label.get("id") or label.get("pk")):
                labels.append(self._label_by_id(label.get("id") or label.get("pk")))
            elif self.state.version == "v3":
                if isinstance(label, dict):
                    raise not_found("Label")  # Label.objects.get(pk=None)
                if not isinstance(label, str) or ":" not in label:
                    raise INTERNAL_ERROR  # k, v = data.split(":", 1)
                labels.append(label)
            elif isinstance(label, str) and _is_uuid(label):
                labels.append(self._label_by_id(label))
            elif isinstance(label, dict):
                labels.append(f"{label.get('name')}:{label.get('value')}")
            elif isinstance(label, str) and ":" in label:
                name, _, text = label.partition(":")
                labels.append(f"{name.strip()}:{text.strip()}")
            else:
                errors["labels"] = ["Invalid data type"]
        for label in labels:
            _require_storable(label)
            self.state.label_id(label)
        return labels

    def _label_by_id(self, label_id: Any) -> str:
        label = self.state.labels.get(str(label_id))
        if label is None:
            raise not_found("Label")
        return label

    # ------------------------------------------------------------------ accounts
    def list_accounts(self, request: Request) -> Response:
        """accounts/filters.py AccountFilterSet (exact filters). v3 has no `name` filter (it is
        ignored) but `hostname` filters the account name. v4 AccountViewSet.get_queryset first does
        get_object_or_404(Asset, pk=?asset or ?asset_id): an unknown asset is a 404."""
        query = request.query
        asset_id = query.get("asset") or query.get("asset_id")
        if self.state.version == "v4" and asset_id:
            if not _is_uuid(asset_id):
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
        return self.page(request, [self.state.render_account(account) for account in accounts])

    def create_account(self, request: Request) -> Response:
        """accounts/serializers/account/account.py AccountSerializer (+ the
        AccountCreateUpdateSerializerMixin): __init__ -> set_initial_value, then field validation,
        then (v3, on_invalid "error" only) UniqueTogetherValidators / (v4) validate(), then
        create() -> do_create with the on_invalid policy."""
        data = dict(_object(request.body))
        if not data.get("asset"):  # set_initial_value, in __init__: a string, not a list
            raise ApiError(400, {"asset": "This field is required."})
        self._from_template(data, inline=False)
        self._set_uniq_name(data, data.get("asset"))
        errors = self._account_errors(data)
        asset_id = data.get("asset")
        if isinstance(asset_id, dict):
            asset_id = asset_id.get("id") or asset_id.get("pk")
        if str(asset_id) not in self.state.assets:  # AccountAssetSerializer.to_internal_value
            errors["asset"] = ["Asset not found"]
        if errors:
            raise ApiError(400, errors)
        account = self._save_account(str(asset_id), data, request.now, inline=False)
        return Response(201, self.state.render_account(account))

    def update_account(self, request: Request, id: str) -> Response:
        """AccountCreateUpdateSerializerMixin.update: `username` and `on_invalid` are dropped (a new
        username is silently ignored), an empty secret is ignored (clean_auth_fields)."""
        account = self.state.accounts.get(id)
        if account is None:
            raise not_found("Account")
        body = _object(request.body)
        if body.get("secret"):
            account.secret = str(body["secret"])
        if "name" in body:
            account.name = str(body["name"])
        for key in ("privileged", "is_active"):
            if key in body and _boolean(body[key]) is not None:
                setattr(account, key, _boolean(body[key]))
        account.source_id = None
        return Response(200, self.state.render_account(account))

    def get_template(self, request: Request, id: str) -> Response:
        template = self.state.templates.get(id)
        if template is None:
            raise not_found("AccountTemplate" if _is_uuid(id) else "Object")
        return Response(200, self.state.render_template(template))

    def _from_template(self, data: dict[str, Any], *, inline: bool) -> None:
        """from_template_if_need: the template's name, username, secret_type, secret, privileged
        and is_active replace whatever the client sent; source becomes "template"."""
        template_id = data.pop("template", None)
        if not template_id:
            return
        if not isinstance(template_id, str) or not _is_uuid(template_id):
            raise INTERNAL_ERROR  # AccountTemplate.objects.filter(id=<not a UUID>), or an int as template
        template = self.state.templates.get(template_id)
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
            if not _is_uuid(str(asset_id)):
                raise not_found("Object")
            if str(asset_id) not in self.state.assets:
                raise not_found("Asset")

    def _set_uniq_name(self, data: dict[str, Any], asset_id: Any) -> None:
        """set_uniq_name_if_need: no name -> the username, plus "_" and 4 hex digits when that name
        is taken on the asset (no name and no username -> name None, refused below)."""
        if data.get("name") is not None:
            return
        name = data.get("username")
        if name is not None and any(
            a.asset_id == asset_id and a.name == name for a in self.state.accounts.values()
        ):
            name = f"{name}_{uuid.uuid4().hex[:4]}"
        data["name"] = name

    def _account_errors(self, data: dict[str, Any]) -> dict[str, Any]:
        """Field validation. `username` is required on v3 only: v3's AccountSerializer keeps DRF's
        unique_together field kwargs (required=True); v4's sets Meta.validators = []."""
        errors: dict[str, Any] = {}
        message = _char_error(data.get("name"), 128)
        if message:
            errors["name"] = [message]
        if "username" in data or self.state.version == "v3":
            message = _char_error(data.get("username", _MISSING), 128, allow_blank=True)
            if message:
                errors["username"] = [message]
        if data.get("secret_type", PASSWORD) not in SECRET_TYPES:
            errors["secret_type"] = [f'"{data["secret_type"]}" is not a valid choice.']
        if data.get("on_invalid") is not None and data["on_invalid"] not in ON_INVALID:
            errors["on_invalid"] = [f'"{data["on_invalid"]}" is not a valid choice.']
        for key in ("privileged", "is_active"):
            if key in data and _boolean(data[key]) is None:
                errors[key] = ["Must be a valid boolean."]
        return errors

    def _save_account(self, asset_id: str, data: dict[str, Any], now: float, *, inline: bool) -> Account:
        name, username = str(data["name"]), data.get("username")
        username = "" if username is None else str(username)
        secret_type = data.get("secret_type", PASSWORD)
        mine = [a for a in self.state.accounts.values() if a.asset_id == asset_id]
        same_username = [a for a in mine if a.username == username and a.secret_type == secret_type]
        same_name = [a for a in mine if a.name == name]
        if inline:
            pass  # every item is validated before the first is saved: no clash yet
        elif self.state.version == "v3":
            if data.get("on_invalid") == "error":
                # get_validators keeps DRF's UniqueTogetherValidators only for a literal "error"
                clashes = []
                if same_username and "username" in data:
                    clashes.append("The fields username, asset, secret_type must make a unique set.")
                if same_name:
                    clashes.append("The fields name, asset must make a unique set.")
                if clashes:
                    raise ApiError(400, {"non_field_errors": clashes})
        else:  # AccountSerializer.validate: Account.Meta.unique_together in order, the first clash
            if same_username and "username" in data:
                message = "Account already exists. Field(s): Username, Asset, Secret type must be unique."
                raise field_error("username", message)
            if same_name:
                raise field_error("name", "Account already exists. Field(s): Name, Asset must be unique.")
        secret = data.get("secret")
        secret = "" if secret is None else str(secret)
        if secret_type == PASSWORD and secret.startswith("{{") and secret.endswith("}}"):
            raise ApiError(400, [PASSWORD_RULE])  # clean_auth_fields -> validate_password_for_ansible
        # do_create: the asset's account with this name, or this username and secret type
        query_username = bool(username) and ("username" in data)
        if name or query_username:
            matches = (
                a for a in mine if (name and a.name == name) or (query_username and a in same_username)
            )
            existing = next(matches, None)
        else:
            existing = mine[0] if mine else None  # an empty Q() matches every account of the asset
        values = {"name": name, "secret_type": secret_type, "source": data.get("source") or "local"}
        if "username" in data:
            values["username"] = username
        if secret:
            values["secret"] = secret
        for key in ("privileged", "is_active"):
            if key in data:
                values[key] = _boolean(data[key])
        if "source_id" in data:
            values["source_id"] = data["source_id"]
        if existing is None:
            account = Account(str(uuid.uuid4()), asset_id, name, username="", secret="", created=now)
            for key, value in values.items():
                setattr(account, key, value)
            self.state.accounts[account.id] = account
            return account
        policy = data.get("on_invalid", "error")
        if policy == "skip":
            return existing
        if policy == "update":
            for key, value in values.items():
                setattr(existing, key, value)
            return existing
        raise ApiError(400, ["Account already exists"])

    def _inline_accounts(self, asset: Asset, accounts: Any, now: float) -> None:
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
            self._from_template(data, inline=True)
            self._set_uniq_name(data, asset.id)
            items.append(data)
            item_errors.append(self._account_errors(data) if isinstance(item, dict) else _not_a_dict(item))
        if any(item_errors):
            raise ApiError(400, item_errors)
        for data in items:
            self._save_account(asset.id, data, now, inline=True)

    # ------------------------------------------------------------------ asset permissions
    def list_permissions(self, request: Request) -> Response:
        permissions = list(self.state.permissions.values())
        if "name" in request.query:
            permissions = [p for p in permissions if p.name == request.query["name"]]
        return self.page(request, [self.state.render_permission(p) for p in permissions])

    def create_permission(self, request: Request) -> Response:
        """perms/serializers/permission.py AssetPermissionSerializer: only `name` is required;
        the dates default to now .. now + ASSET_PERMISSION_DEFAULT_EXPIRED_DAYS (here: unbounded)."""
        body = _object(request.body)
        if not body.get("name"):
            raise field_error("name", "This field is required.")
        errors: dict[str, Any] = {}
        message = _char_error(body["name"], 128)
        if message:
            errors["name"] = [message]
        dates = {key: _date(body.get(key), key, errors) for key in ("date_start", "date_expired")}
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
        body = _object(request.body)
        errors: dict[str, Any] = {}
        dates = {key: _date(body[key], key, errors) for key in ("date_start", "date_expired") if key in body}
        if errors:
            raise ApiError(400, errors)
        for key, value in body.items():
            if key in ("users", "assets", "nodes", "accounts", "protocols", "is_active", "name"):
                setattr(permission, key, value)
        for key, value in dates.items():
            setattr(permission, key, value)
        return Response(200, self.state.render_permission(permission))

    # ------------------------------------------------------------------ connection tokens
    def list_tokens(self, request: Request) -> Response:
        """ConnectionTokenViewSet.get_queryset: the caller's live tokens of every type, in
        ConnectionToken.Meta.ordering = ('-date_expired',)."""
        live = [t for t in self.state.tokens.values() if t.expires > request.now]
        live.sort(key=lambda token: token.expires, reverse=True)
        return self.page(request, [self.state.render_token(t, request.now) for t in live])

    def create_token(self, request: Request, admin: bool = False) -> Response:
        """authentication/serializers/connection_token.py ConnectionTokenSerializer: `account` and
        `connect_method` required, `asset` nullable; DRF's error dict on both versions (the
        flattened {"detail": ...} only arrives in v4.10.17)."""
        body = _object(request.body)
        errors: dict[str, Any] = {}
        for key in ("account", "connect_method"):
            message = _char_error(body.get(key, _MISSING), 128 if key == "account" else 32)
            if message:
                errors[key] = [message]
        asset_id = body.get("asset")
        if asset_id is not None:
            if not _is_uuid(str(asset_id)):
                errors["asset"] = [f"“{asset_id}” is not a valid UUID."]
            elif str(asset_id) not in self.state.assets:
                errors["asset"] = [invalid_pk(asset_id)]
        if errors:
            raise ApiError(400, errors)
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
            _boolean(body.get("is_reusable")) is True,
            request.now,
            admin=admin,
        )
        return Response(201, self.state.render_token(token, request.now))

    def _token_account(
        self, asset: Asset, alias: str, protocol: str, *, admin: bool, now: float
    ) -> Account | None:
        """The account a token request names, if the caller may use it.

        JumpServer (authentication/serializers/connection_token.py -> ConnectionToken
        .get_user_permed_account -> perms/utils/asset_perm.py PermAssetDetailUtil.validate_permission,
        same at v3.10.23 and v4.10.16) builds the user's permitted accounts of the asset and looks the
        request's `account` up by `Account.alias`: the name up to v4.8, the id from v4.9, the
        username for virtual accounts (@INPUT, @USER, ...). Admin tokens (v4.8+) skip permissions.
        """
        if admin:  # AdminConnectionToken.get_asset_accounts_by_alias: the id if a UUID, else the name
            key = "id" if _is_uuid(alias) else "name"
            mine = (a for a in self.state.accounts.values() if a.asset_id == asset.id and a.is_active)
            return next((account for account in mine if getattr(account, key) == alias), None)
        if self._protocol_permitted(asset, protocol, now):
            accounts = self._permitted_accounts(asset, now)
        else:
            return None
        return next((account for account in accounts if self._alias(account) == alias), None)

    def _alias(self, account: Account) -> str:
        """accounts/models/account.py Account.alias."""
        if account.username.startswith("@"):
            return account.username
        return account.id if self.state.version == "v4" else account.name

    @staticmethod
    def _virtual(alias: str, asset: Asset) -> Account:
        return Account(alias, asset.id, alias, alias, "")

    def _permitted_accounts(self, asset: Asset, now: float) -> list[Account]:
        """PermAssetDetailUtil.parse_alias_action_date_expire + map_alias_to_accounts: each entry of
        a permission's `accounts` is an account *username* or an alias; a name or id grants
        nothing. @ALL is every active account's username; "!username" excludes (v4 only); @SPEC
        and other "@x" are skipped; @INPUT/@ANON/@USER are virtual accounts only when listed."""
        permissions = self._permissions_for(asset, now)
        entries: set[str] = set()
        for permission in permissions:
            entries |= set(permission.accounts)
        mine = [a for a in self.state.accounts.values() if a.asset_id == asset.id and a.is_active]
        if "@ALL" in entries:
            entries |= {account.username for account in mine}
        if self.state.version == "v4":  # the action bits of "!username" are subtracted
            entries -= {entry[1:] for entry in entries if entry.startswith("!")}
        permitted = [account for account in mine if account.username in entries]
        user = self.state.service_user
        for alias in ("@INPUT", "@ANON", "@USER"):
            if alias not in entries:
                continue
            if alias == "@USER" and any(a.username == user.username for a in mine):
                permitted += [a for a in mine if a.username == user.username and a not in permitted]
            else:
                permitted.append(self._virtual(alias, asset))
        return permitted

    def _permissions_for(self, asset: Asset, now: float) -> list[Permission]:
        """perms/utils/permission.py AssetPermissionUtil.get_permissions_for_user_asset: active,
        within its dates, naming the user and the asset directly or through a node above it."""
        reachable = {node for node_id in asset.node_ids for node in self.state.ancestors(node_id)}
        return [
            permission
            for permission in self.state.permissions.values()
            if permission.is_active
            and self.state.service_user.id in permission.users
            and (permission.date_start is None or permission.date_start <= now)
            and (permission.date_expired is None or now < permission.date_expired)
            and (asset.id in permission.assets or reachable & set(permission.nodes))
        ]

    def _protocol_permitted(self, asset: Asset, protocol: str, now: float) -> bool:
        protocols = {p for permission in self._permissions_for(asset, now) for p in permission.protocols}
        return "all" in protocols or protocol in protocols

    def get_token(self, request: Request, id: str) -> Response:
        return Response(200, self.state.render_token(self._live_token(id, request), request.now))

    def delete_token(self, request: Request, id: str) -> Response:
        return Response(405, {"detail": 'Method "DELETE" not allowed.', "code": "method_not_allowed"})

    def reuse_token(self, request: Request, id: str) -> Response:
        """authentication/api/connection_token.py ExtraActionApiMixin.reuse + ConnectionToken
        .set_reusable: refused whatever the body says unless CONNECTION_TOKEN_REUSABLE; else the
        token expires at date_created + (REUSABLE_EXPIRATION if is_reusable else 300 s)."""
        token = self._live_token(id, request)
        if not self.state.reusable_allowed:  # a ValidationError(str): a non-field list
            raise ApiError(400, ["Reusable connection token is not allowed, global setting not enabled"])
        body = _object(request.body)
        reusable = _boolean(body.get("is_reusable", False))
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

    def _live_token(self, token_id: str, request: Request):
        if not _is_uuid(token_id):
            if self.state.version == "v4" and not token_id.isdigit():
                raise INTERNAL_ERROR  # QuerySetMixin.get_object: .get(name=...) is a FieldError
            raise not_found("Object")
        token = self.state.live_token(token_id, request.now)
        if token is None:
            raise not_found("ConnectionToken")
        return token

    # ------------------------------------------------------------------ v4.8+ admin tokens
    def list_admin_tokens(self, request: Request) -> Response:
        """AdminConnectionTokenViewSet.get_queryset: the caller's admin tokens, expired included."""
        self._check_superuser()
        mine = [t for t in self.state.tokens.values() if t.admin]
        mine.sort(key=lambda token: token.expires, reverse=True)
        return self.page(request, [self.state.render_token(t, request.now) for t in mine])

    def create_admin_token(self, request: Request) -> Response:
        self._check_superuser()
        return self.create_token(request, admin=True)

    def _check_superuser(self) -> None:
        if self.state.version == "v3":
            raise ROUTE_NOT_FOUND
        if not self.state.service_user.is_superuser:  # AdminConnectionTokenViewSet.check_permissions
            raise PERMISSION_DENIED


_MISSING: Any = object()


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, _not_a_dict(body))
    return body


def _not_a_dict(value: Any) -> dict[str, list[str]]:
    kind = type(value).__name__
    return {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}


def _char_error(value: Any, max_length: int | None = None, *, allow_blank: bool = False) -> str | None:
    """rest_framework/fields.py CharField (required, trim_whitespace; DRF 3.14.0, both versions): the
    error, or None. Its validators include ProhibitNullCharactersValidator (CharField.__init__), so
    a NUL anywhere is refused, after the length check."""
    if value is _MISSING:
        return REQUIRED
    if value is None:
        return NOT_NULL
    if isinstance(value, (bool, dict, list)):
        return "Not a valid string."
    text = str(value)
    if not text.strip():
        return None if allow_blank else NOT_BLANK
    if max_length and len(text.strip()) > max_length:
        return f"Ensure this field has no more than {max_length} characters."
    if "\x00" in text:
        return NUL_REFUSED
    return None


def _require_storable(label: str) -> None:
    """Before v4.10.19 nothing validates a label's parts (v3.10.23 and v4.10.16 fields.py
    LabelRelatedField.to_internal_value hand them to Label.objects.get_or_create): PostgreSQL refuses
    a NUL (psycopg2's ValueError) and a part over Label.name/.value's max_length=64 (DataError), and
    neither is an APIException, so common_exception_handler leaves both to Django's 500."""
    name, _, value = label.partition(":")
    if "\x00" in label or len(name) > 64 or len(value) > 64:
        raise INTERNAL_ERROR


def _trimmed(value: Any) -> str:
    """What a CharField with trim_whitespace stores: the text without leading or trailing whitespace."""
    return str(value).strip()


def _boolean(value: Any) -> bool | None:
    """rest_framework/fields.py BooleanField.to_internal_value; None when not a boolean."""
    try:
        if value in TRUE_VALUES:
            return True
        if value in FALSE_VALUES:
            return False
    except TypeError:  # unhashable
        pass
    return None


def _drf_int(value: Any) -> int:
    """rest_framework/fields.py IntegerField.to_internal_value (raises ValueError)."""
    if isinstance(value, bool):
        raise ValueError(value)
    return int(re.sub(r"\.0*\s*$", "", str(value)))


def _django_int(value: Any) -> int:
    """An integer primary-key lookup: Django does int(value); a ValueError there is a 500."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise INTERNAL_ERROR from None


def _date(value: Any, name: str, errors: dict[str, Any]) -> float | None:
    """rest_framework DateTimeField with JumpServer's DATETIME_INPUT_FORMATS
    (jumpserver/settings/libs.py): '%Y/%m/%d %H:%M:%S %z', ISO 8601, '%Y-%m-%d %H:%M:%S %z'."""
    if value is None:
        return None
    text = str(value)
    for parse in (
        lambda t: datetime.strptime(t, "%Y/%m/%d %H:%M:%S %z"),
        lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")),
        lambda t: datetime.strptime(t, "%Y-%m-%d %H:%M:%S %z"),
    ):
        try:
            parsed = parse(text)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=SERVER_ZONE)
        return parsed.timestamp()
    formats = "YYYY/MM/DD hh:mm:ss +HHMM, YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]"
    formats += ", YYYY-MM-DD hh:mm:ss +HHMM"
    errors[name] = [f"Datetime has wrong format. Use one of these formats instead: {formats}."]
    return None


def _positive_int(value: str | None, *, strict: bool) -> int | None:
    """rest_framework/pagination.py _positive_int; None where DRF falls back to its default."""
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if number < 0 or (number == 0 and strict):
        return None
    return number


def _replace_query(url: str, **changes: int | None) -> str:
    """rest_framework/utils/urls.py replace_query_param / remove_query_param (a None value)."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = [str(value)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True

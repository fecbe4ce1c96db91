"""Database assets: apps/assets/api/asset/database.py DatabaseViewSet over
apps/assets/api/asset/asset.py (AssetViewSet at v3.10.23, BaseAssetViewSet at v4.10.16, filtered by
AssetFilterSet), its body read as asset_fields says. An asset is created with its inline accounts or
not at all (AssetSerializer.create is atomic); deleting it deletes them. On v4 a detail pk that is
neither a UUID nor all digits is looked up by name (apps/common/api/mixin.py QuerySetMixin.get_object).
v4 also routes directory-service assets (apps/assets/urls/api_urls.py `directories`, from v4.9.0)."""

from __future__ import annotations

import uuid

from jumpserver_sim.accounts import create_inline_accounts
from jumpserver_sim.asset_fields import asset_platform, default_protocols, validate_asset
from jumpserver_sim.drf import (
    DETAIL,
    NUL_REFUSED,
    ApiError,
    Request,
    Response,
    Route,
    is_uuid,
    not_found,
    object_body,
    trimmed,
)
from jumpserver_sim.pagination import page
from jumpserver_sim.state import Asset, State

DATABASES = "/api/v1/assets/databases/"


class DatabaseAssets:
    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        routes: list[Route] = [
            ("GET", DATABASES, self.list_assets),
            ("POST", DATABASES, self.create_asset),
            ("GET", rf"{DATABASES}{DETAIL}/", self.get_asset),
            ("PATCH", rf"{DATABASES}{DETAIL}/", self.update_asset),
            ("PUT", rf"{DATABASES}{DETAIL}/", self.update_asset),
            ("DELETE", rf"{DATABASES}{DETAIL}/", self.delete_asset),
        ]
        if self.state.version == "v4":
            routes.append(("GET", r"/api/v1/assets/directories/", self.list_directories))
        return routes

    def list_assets(self, request: Request) -> Response:
        # the filterset's form fields are Django CharFields: ProhibitNullCharactersValidator again,
        # answered by DjangoFilterBackend as a 400 of the form's errors
        refused = {key: [NUL_REFUSED] for key in ("name", "address") if "\x00" in request.query.get(key, "")}
        if refused:
            raise ApiError(400, refused)
        assets = list(self.state.assets.values())
        for key in ("name", "address"):
            if key in request.query:
                assets = [asset for asset in assets if getattr(asset, key) == request.query[key]]
        if "is_active" in request.query:
            wanted = request.query["is_active"].lower() in ("1", "true")
            assets = [asset for asset in assets if asset.is_active == wanted]
        return page(request, [self.state.render_asset(asset) for asset in assets], self.state.version)

    def list_directories(self, request: Request) -> Response:
        """dbguard creates no directory-service assets; the route's existence is what tells a v4.9+
        server from an older one."""
        return page(request, [], self.state.version)

    def get_asset(self, request: Request, id: str) -> Response:
        return Response(200, self.state.render_asset(self._asset(id)))

    def create_asset(self, request: Request) -> Response:
        body = dict(object_body(request.body))
        accounts = body.pop("accounts", None)  # AssetSerializer._extract_accounts, in __init__
        if body.get("protocols") is None:
            # AssetSerializer.is_valid -> _set_protocols_default -> _asset_platform, before any
            # field validation: {"platform": "Platform not exist"} (a string) or a 500
            platform = asset_platform(self.state, body.get("platform"), None)
            body["protocols"] = [dict(p) for p in default_protocols(self.state, platform)]
        values = validate_asset(self.state, body, None)
        asset = Asset(
            id=str(uuid.uuid4()),
            name=trimmed(body["name"]),
            address=trimmed(body["address"]),
            platform=values["platform"],
            db_name=trimmed(body.get("db_name") or ""),
            protocols=values["protocols"],
            node_ids=values["nodes"] or [self.state.root.id],
            labels=values.get("labels", []),
            is_active=values.get("is_active", True),
            comment=str(body.get("comment") or ""),
            created=request.now,
            updated=request.now,
        )
        self.state.assets[asset.id] = asset
        try:
            create_inline_accounts(self.state, asset, accounts, request.now)
        except ApiError:  # a refused account rolls the asset back
            self._forget(asset)
            raise
        return Response(201, self.state.render_asset(asset))

    def update_asset(self, request: Request, id: str) -> Response:
        """PATCH is partial; PUT validates like PATCH here (simplified). Inline `accounts` are ignored
        on both versions: _extract_accounts pops them and update() never reads them (the upsert only
        arrives in v4.10.19)."""
        asset = self._asset(id)
        body = dict(object_body(request.body))
        body.pop("accounts", None)
        values = validate_asset(self.state, body, asset)
        for key in ("name", "address", "db_name", "comment"):
            if key in body and body[key] is not None:
                setattr(asset, key, trimmed(body[key]))
        for key in ("is_active", "labels", "protocols", "platform"):
            if key in values:
                setattr(asset, key, values[key])
        if "nodes" in values:
            asset.node_ids = values["nodes"] or [self.state.root.id]
        asset.updated = request.now  # a save, even of the same values (auto_now)
        return Response(200, self.state.render_asset(asset))

    def delete_asset(self, request: Request, id: str) -> Response:
        self._forget(self._asset(id))
        return Response(204)

    def _forget(self, asset: Asset) -> None:
        """The asset and, by cascade, its accounts."""
        del self.state.assets[asset.id]
        for account_id in [a.id for a in self.state.accounts.values() if a.asset_id == asset.id]:
            del self.state.accounts[account_id]

    def _asset(self, asset_id: str) -> Asset:
        """The detail routes' get_object: v4's QuerySetMixin.get_object by name; otherwise DRF's
        get_object_or_404 turns a non-UUID into a bare Http404, "Object object does not exist."."""
        asset = self.state.assets.get(asset_id)
        if asset is not None:
            return asset
        if is_uuid(asset_id):
            raise not_found("Database")
        if self.state.version == "v4" and not asset_id.isdigit():
            found = next((a for a in self.state.assets.values() if a.name == asset_id), None)
            if found is None:
                raise not_found("Database")
            return found
        raise not_found("Object")

"""Platforms: apps/assets/api/platform.py AssetPlatformViewSet (a detail by numeric id or by name; the
`name` filter), the same at v3.10.23 and v4.10.16. A v3 community edition lists no PostgreSQL
platform (apps/assets/const/database.py get_community_types), although an asset may still name its
id; state.PLATFORMS marks it hidden there."""

from __future__ import annotations

from jumpserver_sim.drf import DETAIL, Request, Response, Route, not_found
from jumpserver_sim.pagination import page
from jumpserver_sim.state import PLATFORMS, State


class Platforms:
    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            ("GET", r"/api/v1/assets/platforms/", self.list_platforms),
            ("GET", rf"/api/v1/assets/platforms/{DETAIL}/", self.get_platform),
        ]

    def list_platforms(self, request: Request) -> Response:
        names = [name for name, (_, _, hidden) in PLATFORMS[self.state.version].items() if not hidden]
        if "name" in request.query:
            names = [name for name in names if name == request.query["name"]]
        return page(request, [self.state.render_platform(name) for name in names], self.state.version)

    def get_platform(self, request: Request, id: str) -> Response:
        for name, (platform_id, _, hidden) in PLATFORMS[self.state.version].items():
            if not hidden and id in (name, str(platform_id)):
                return Response(200, self.state.render_platform(name, detail=True))
        raise not_found("Platform")

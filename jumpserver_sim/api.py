"""JumpServer's REST endpoints as dbguard uses them, one module per resource, routed here the way
Django and DRF route them: a path no view answers is Django's 404 (apps/jumpserver/views/
error_views.py handler404), a method a view lacks DRF's 405.

"v3" is v3.10.23 and "v4" is v4.10.16: source references (apps/...) are to those tags; the audit
table is in docs/jumpserver.md, "Simulator audit against JumpServer's source", and every recorded
exchange (tests/contract/recordings) replays against the simulator in tests/contract."""

from __future__ import annotations

import re

from jumpserver_sim.accounts import Accounts
from jumpserver_sim.assets import DatabaseAssets
from jumpserver_sim.drf import ROUTE_NOT_FOUND, Handler, Request, Response, method_not_allowed
from jumpserver_sim.nodes import Nodes
from jumpserver_sim.permissions import AssetPermissions
from jumpserver_sim.platforms import Platforms
from jumpserver_sim.state import State
from jumpserver_sim.static_answers import StaticAnswers
from jumpserver_sim.tokens import ConnectionTokens


class Api:
    def __init__(self, state: State) -> None:
        self.state = state
        self.static = StaticAnswers(state)
        self.assets = DatabaseAssets(state)
        self.permissions = AssetPermissions(state)
        resources = (
            Platforms(state),
            Nodes(state),
            self.assets,
            Accounts(state),
            self.static,
            self.permissions,
            ConnectionTokens(state),
        )
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (method, re.compile(pattern + "$"), handler)
            for resource in resources
            for method, pattern, handler in resource.routes()
        ]

    def resolves(self, path: str) -> bool:
        """Whether a DRF view answers `path` on this version (else Django's 404, unauthenticated
        and unthrottled)."""
        static = self.static.recorded(path)
        if static is not None:
            return static["status"] != 404  # recorded as Django's {"error": "Not found"}
        return any(pattern.match(path) for _, pattern, _ in self.routes)

    def handle(self, request: Request) -> Response:
        static = self.static.answer(request)
        if static is not None:
            return static
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                with self.state.lock:
                    return handler(request, **match.groupdict())
        if any(pattern.match(request.path) for _, pattern, _ in self.routes):
            return method_not_allowed(request.method)
        raise ROUTE_NOT_FOUND

    # seeding without HTTP, for the simulator's own helpers, tests and the bench
    def create_asset(self, request: Request) -> Response:
        return self.assets.create_asset(request)

    def create_permission(self, request: Request) -> Response:
        return self.permissions.create_permission(request)

"""Answers that do not change while a server runs. Most are replayed as recorded (templates.json):
health (apps/jumpserver/api/health.py), the public settings (apps/settings/api/public.py, where
apps/settings/serializers/public.py shows this server's own CONNECTION_TOKEN_REUSABLE,
XPACK_LICENSE_IS_VALID and TERMINAL_MAGNUS_ENABLED), the server info, connect methods
(apps/terminal/api/component/connect_methods.py, Magnus's as this server's edition makes them:
editions.py), zones or domains, swagger,
and on v4 the client versions (apps/settings/api/settings.py ClientVersionView, from v4.10.13); a
path recorded as Django's 404 is one the version lacks. The caller's profile
(apps/users/api/profile.py UserProfileApi) is the simulator's service user. The paths are the same at
v3.10.23 and v4.10.16."""

from __future__ import annotations

from typing import Any

from jumpserver_sim.drf import Request, Response, Route
from jumpserver_sim.editions import connect_methods
from jumpserver_sim.state import TEMPLATES, State

PUBLIC_SETTINGS = "/api/v1/settings/public/"
CONNECT_METHODS = "/api/v1/terminal/components/connect-methods/"
# 'time': int(time.time()) at each request: v4.10.16 apps/jumpserver/api/health.py HealthCheckView.get,
# v3.10.23 apps/jumpserver/api.py
HEALTH = "/api/health/"


class StaticAnswers:
    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [("GET", r"/api/v1/users/profile/", self.get_profile)]

    def recorded(self, path: str) -> dict[str, Any] | None:
        """The recorded status and body of `path` on this version, if it was recorded."""
        return TEMPLATES[self.state.version]["static"].get(path)

    def answer(self, request: Request) -> Response | None:
        """The recorded answer to a GET of a recorded path, else None."""
        static = self.recorded(request.path)
        if static is None or request.method != "GET":
            return None
        body = static["json"]
        if request.path == PUBLIC_SETTINGS and isinstance(body, dict):  # the server's own settings
            body = {
                **body,
                "CONNECTION_TOKEN_REUSABLE": self.state.reusable_allowed,
                "XPACK_LICENSE_IS_VALID": self.state.xpack_license_valid,
                "TERMINAL_MAGNUS_ENABLED": self.state.magnus_enabled,
            }
        if request.path == HEALTH and isinstance(body, dict):  # the server's clock, not the recording's
            body = {**body, "time": int(request.now)}
        if request.path == CONNECT_METHODS and isinstance(body, dict):
            body = connect_methods(
                body,
                self.state.version,
                licensed=self.state.xpack_license_valid,
                magnus_enabled=self.state.magnus_enabled,
            )
        return Response(static["status"], body)

    def get_profile(self, request: Request) -> Response:
        return Response(200, self.state.render_user())

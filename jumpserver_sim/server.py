"""The simulator's HTTP server: authentication as JumpServer does it, fault injection, recording."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jumpserver_sim.api import Api, ApiError, Request, Response
from jumpserver_sim.state import State, User

_SIGNATURE = re.compile(r'(\w+)="([^"]*)"')
_OPEN_PATHS = ("/api/health/", "/api/v1/settings/public/open/")
_NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}


@dataclass
class Faults:
    latency_seconds: float = 0.0
    fail_next: int = 0  # answer 502 (the reverse proxy's page) to this many requests
    throttle_next: int = 0  # answer 429 with Retry-After to this many requests
    retry_after_seconds: int = 1
    hang_next: int = 0  # sleep hang_seconds before answering this many requests
    hang_seconds: float = 5.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, name: str) -> bool:
        with self.lock:
            left = getattr(self, name)
            if left > 0:
                setattr(self, name, left - 1)
                return True
            return False


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int


class Simulator:
    """A JumpServer on 127.0.0.1 for tests and `make run` (v3.10 or v4.x behaviour)."""

    def __init__(
        self,
        version: str = "v4",
        private_token: str | None = None,
        access_keys: dict[str, str] | None = None,
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if version not in ("v3", "v4"):
            raise ValueError("version must be v3 or v4")
        self.version = version
        self.private_token = private_token
        self.access_keys = dict(access_keys or {})
        self.clock = clock
        self.service_user = User(str(uuid.uuid4()), "dbguard service", "dbguard")
        self.store = State(version, self.service_user)
        self.api = Api(self.store)
        self.fault = Faults()
        self.requests: list[Recorded] = []
        self._port = port
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Simulator:
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="jumpserver-sim", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def faults(self, **changes: Any) -> None:
        for name, value in changes.items():
            if not hasattr(self.fault, name) or name == "lock":
                raise ValueError(f"unknown fault {name}")
            setattr(self.fault, name, value)

    def reset(self) -> None:
        self.store = State(self.version, self.service_user)
        self.api = Api(self.store)
        self.fault = Faults()
        self.requests.clear()

    # ------------------------------------------------------------------ seeding helpers for tests
    def grant_service_user(self, node_path: str | None = None, asset_ids: list[str] | None = None) -> str:
        """An asset permission for the service user (@ALL accounts, all protocols)."""
        body = {
            "name": f"sim-perm-{uuid.uuid4().hex[:8]}",
            "users": [self.service_user.id],
            "accounts": ["@ALL"],
        }
        if node_path:
            body["nodes"] = [self.store.ensure_path(node_path).id]
        body["assets"] = asset_ids or []
        return self.api.create_permission(Request("POST", "", {}, body, self.clock())).body["id"]

    # ------------------------------------------------------------------ one request
    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        if self.fault.latency_seconds:
            time.sleep(self.fault.latency_seconds)
        if self.fault.take("hang_next"):
            time.sleep(self.fault.hang_seconds)
        split = urlsplit(target)
        if self.fault.take("fail_next"):
            return Response(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
        if self.fault.take("throttle_next"):
            wait = self.fault.retry_after_seconds
            body = {
                "detail": f"Request was throttled. Expected available in {wait} seconds.",
                "code": "throttled",
            }
            return Response(429, body, {"Retry-After": str(wait)})
        try:
            if split.path.startswith("/_sim/"):
                return self._control(method, split.path, raw)
            if split.path not in _OPEN_PATHS:
                self._authenticate(method, target, headers)
            body = json.loads(raw) if raw.strip() else None
            request = Request(method, split.path, dict(parse_qsl(split.query)), body, self.clock())
            return self.api.handle(request)
        except ApiError as error:
            return Response(error.status, error.body)
        except json.JSONDecodeError:
            return Response(400, {"detail": "JSON parse error - Expecting value", "code": "parse_error"})

    def _authenticate(self, method: str, target: str, headers: dict[str, str]) -> None:
        authorization = headers.get("authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        if scheme == "Token":
            if self.private_token and hmac.compare_digest(credentials, self.private_token):
                return
            raise ApiError(401, {"detail": "Invalid token.", "code": "authentication_failed"})
        if scheme == "Signature":
            self._verify_signature(method, target, headers, dict(_SIGNATURE.findall(credentials)))
            return
        raise ApiError(401, _NOT_AUTHENTICATED)

    def _verify_signature(
        self, method: str, target: str, headers: dict[str, str], parts: dict[str, str]
    ) -> None:
        signed = parts.get("headers", "date").split()
        if "date" not in signed or "date" not in headers:
            raise ApiError(500, {"error": "Server internal error"})  # as the real server does
        secret = self.access_keys.get(parts.get("keyId", ""))
        if secret is None or parts.get("algorithm") != "hmac-sha256":
            raise ApiError(401, {"detail": "Invalid signature.", "code": "authentication_failed"})
        lines = [
            f"(request-target): {method.lower()} {target}"
            if name == "(request-target)"
            else f"{name}: {headers.get(name, '')}"
            for name in signed
        ]
        expected = base64.b64encode(
            hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha256).digest()
        )
        if not hmac.compare_digest(expected.decode(), parts.get("signature", "")):
            raise ApiError(401, {"detail": "Invalid signature.", "code": "authentication_failed"})

    def _control(self, method: str, path: str, raw: bytes) -> Response:
        if path == "/_sim/faults" and method == "POST":
            self.faults(**json.loads(raw or b"{}"))
            return Response(204)
        if path == "/_sim/reset" and method == "POST":
            self.reset()
            return Response(204)
        if path == "/_sim/state" and method == "GET":
            now = self.clock()
            return Response(200, {
                "version": self.version,
                "assets": [self.store.render_asset(a) for a in self.store.assets.values()],
                "tokens": [
                    {key: value for key, value in self.store.render_token(t, now).items() if key != "value"}
                    for t in self.store.tokens.values()
                ],
            })  # fmt: skip
        raise ApiError(404, {"error": "Not found"})


def _handler_for(simulator: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            response = simulator.answer(self.command, self.path, headers, raw)
            simulator.requests.append(
                Recorded(
                    self.command, self.path, _without_credentials(headers), _parsed(raw), response.status
                )
            )
            self._reply(response)

        def _reply(self, response: Response) -> None:
            payload = b""
            content_type = "application/json"
            if isinstance(response.body, str):
                payload, content_type = response.body.encode(), "text/html"
            elif response.body is not None or response.status not in (204,):
                payload = json.dumps(response.body).encode() if response.body is not None else b""
            self.send_response(response.status)
            if payload:
                self.send_header("Content-Type", content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # requests are kept in simulator.requests; no access log with paths on stderr

    return Handler


def _without_credentials(headers: dict[str, str]) -> dict[str, str]:
    return {name: ("<redacted>" if name == "authorization" else value) for name, value in headers.items()}


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except json.JSONDecodeError:
        return raw.decode("utf-8", "replace")

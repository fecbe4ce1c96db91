"""The simulator's HTTP server: authentication as JumpServer does it, fault injection, recording."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jumpserver_sim.api import Api
from jumpserver_sim.drf import ApiError, Request, Response
from jumpserver_sim.state import AccountTemplate, State, User

_SIGNATURE = re.compile(r'(\w+)="([^"]*)"')
# jumpserver/conf.py THROTTLE_RATES_USER: v3.10.23 has no throttling; v4.10.15-16 180/min (4096/min
# from v4.10.17). The simulator's default is the stock server's.
STOCK_THROTTLE_RATES = {"v3": None, "v4": "180/min"}
STOCK = "stock"
_HMAC_DIGESTS = {"hmac-sha1": hashlib.sha1, "hmac-sha256": hashlib.sha256, "hmac-sha512": hashlib.sha512}
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
    fail_after_commit_next: int = 0  # apply this many successful requests, then answer 502 (a lost answer)
    reject_next: int = 0  # answer 400 (a DRF field error, nothing applied) to this many requests
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, name: str) -> bool:
        with self.lock:
            left = getattr(self, name)
            if left > 0:
                setattr(self, name, left - 1)
                return True
            return False


class Throttle:
    """DRF's SimpleRateThrottle as JumpServer's common/drf/throttling.py RateThrottle applies it to
    an authenticated user: a sliding window of the last `duration` seconds; a refused request is not
    counted; the wait is what is left of the window (rest_framework/throttling.py wait())."""

    def __init__(self, rate: str) -> None:
        count, _, period = rate.partition("/")
        self.num_requests = int(count)
        self.duration = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
        self.history: list[float] = []  # newest first, as DRF keeps it
        self.lock = threading.Lock()

    def wait(self, now: float) -> int | None:
        """None when the request may pass (and is counted), else the seconds to wait (rounded up)."""
        with self.lock:
            while self.history and self.history[-1] <= now - self.duration:
                self.history.pop()
            if len(self.history) < self.num_requests:
                self.history.insert(0, now)
                return None
            return math.ceil(self.duration - (now - self.history[-1]))


def throttle_for(version: str, rate: str | None) -> Throttle | None:
    rate = STOCK_THROTTLE_RATES[version] if rate == STOCK else rate
    return Throttle(rate) if rate and rate != "none" else None


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
        connection_token_reusable: bool = False,
        throttle_rate: str | None = STOCK,
        xpack_license_is_valid: bool = False,
        terminal_magnus_enabled: bool = True,
    ) -> None:
        """Defaults are a stock server's: CONNECTION_TOKEN_REUSABLE off, the version's throttle rate
        (`throttle_rate` "180/min"-style, or None / "none" for no throttling), a community edition
        (XPACK_LICENSE_IS_VALID false) with Magnus enabled (TERMINAL_MAGNUS_ENABLED)."""
        if version not in ("v3", "v4"):
            raise ValueError("version must be v3 or v4")
        self.version = version
        self.connection_token_reusable = connection_token_reusable
        self.xpack_license_is_valid = xpack_license_is_valid
        self.terminal_magnus_enabled = terminal_magnus_enabled
        self.throttle_rate = throttle_rate
        self.throttle = throttle_for(version, throttle_rate)
        self.private_token = private_token
        self.access_keys = dict(access_keys or {})
        self.clock = clock
        self.service_user = User(str(uuid.uuid4()), "dbguard service", "dbguard")
        self.store = self._new_state()
        self.api = Api(self.store)
        self.fault = Faults()
        self.requests: list[Recorded] = []
        # instrumentation, not JumpServer behaviour: the most requests it was answering at once
        self.most_in_flight = 0
        self._in_flight = 0
        self._counting = threading.Lock()
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

    def _new_state(self) -> State:
        return State(
            self.version,
            self.service_user,
            reusable_allowed=self.connection_token_reusable,
            xpack_license_valid=self.xpack_license_is_valid,
            magnus_enabled=self.terminal_magnus_enabled,
        )

    def reset(self) -> None:
        self.throttle = throttle_for(self.version, self.throttle_rate)
        self.store = self._new_state()
        self.api = Api(self.store)
        self.fault = Faults()
        self.requests.clear()
        self.most_in_flight = 0

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

    def add_account_template(
        self,
        name: str,
        username: str,
        secret: str = "",
        *,
        secret_type: str = "password",  # noqa: S107
        privileged: bool = False,
        is_active: bool = True,
    ) -> str:
        """An account template (Accounts -> Templates in the UI; the API route is not modelled);
        its id, for GET /api/v1/accounts/account-templates/<id>/ and `template` on account create."""
        template = AccountTemplate(
            str(uuid.uuid4()), name, username, secret, secret_type, privileged, is_active, self.clock()
        )
        self.store.templates[template.id] = template
        return template.id

    # ------------------------------------------------------------------ one request
    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        with self._counting:
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        try:
            return self._answer(method, target, headers, raw)
        finally:
            with self._counting:
                self._in_flight -= 1

    def _answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        if self.fault.latency_seconds:
            time.sleep(self.fault.latency_seconds)
        if self.fault.take("hang_next"):
            time.sleep(self.fault.hang_seconds)
        split = urlsplit(target)
        if self.fault.take("fail_next"):
            return Response(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
        if self.fault.take("throttle_next"):
            wait = self.fault.retry_after_seconds
            return Response(429, _throttled(wait), {"Retry-After": str(wait)})
        if self.fault.take("reject_next"):
            return Response(400, {"name": ["Injected refusal."]})
        try:
            if split.path.startswith("/_sim/"):
                return self._control(method, split.path, raw)
            if not self.api.resolves(split.path):
                raise ApiError(404, {"error": "Not found"})  # Django's URL resolver: no DRF view at all
            if split.path not in _OPEN_PATHS:
                self._authenticate(method, target, headers)
                self._check_throttle()
            body = json.loads(raw) if raw.strip() else None
            query = dict(parse_qsl(split.query, keep_blank_values=True))
            request = Request(
                method, split.path, query, body, self.clock(), split.query, headers.get("host", "")
            )
            return self._fail_after_commit(self.api.handle(request))
        except ApiError as error:
            return Response(error.status, error.body, error.headers)
        except json.JSONDecodeError:
            return Response(400, {"detail": "JSON parse error - Expecting value", "code": "parse_error"})

    def _fail_after_commit(self, response: Response) -> Response:
        """`fail_after_commit_next`: the request was applied (a POST created its object), but the
        answer is lost on the way back, as when the reverse proxy times out after JumpServer committed."""
        if response.status < 400 and self.fault.take("fail_after_commit_next"):
            return Response(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
        return response

    def _check_throttle(self) -> None:
        """After authentication, as DRF's APIView.initial() orders it."""
        wait = self.throttle.wait(self.clock()) if self.throttle else None
        if wait is not None:
            raise ApiError(429, _throttled(wait), {"Retry-After": str(wait)})

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
        """common/auth/signature.py SignatureAuthentication with httpsig 1.3.0's HeaderVerifier:
        keyId, algorithm and signature must be there and the key known (else 401); then httpsig
        raises plain exceptions (a 500) for an algorithm other than hmac-sha1/256/512, for a signed
        header list without both required headers "(request-target)" and "date" (the list
        defaults to "date"), and for a signed header the request lacks."""
        parts = {name.lower(): value for name, value in parts.items()}
        if {"keyid", "algorithm", "signature"} - parts.keys():
            raise ApiError(401, {"detail": "Invalid signature.", "code": "authentication_failed"})
        secret = self.access_keys.get(parts["keyid"])
        if secret is None:
            raise ApiError(401, {"detail": "Invalid signature.", "code": "authentication_failed"})
        digest = _HMAC_DIGESTS.get(parts["algorithm"])
        signed = parts.get("headers", "date").split(" ")
        if digest is None or {"(request-target)", "date"} - set(signed):
            raise ApiError(500, {"error": "Server internal error"})
        lines = []
        for name in signed:
            name = name.lower()
            if name == "(request-target)":
                lines.append(f"(request-target): {method.lower()} {target}")
            elif name in headers:
                lines.append(f"{name}: {headers[name]}")
            else:  # httpsig generate_message: 'missing required header'
                raise ApiError(500, {"error": "Server internal error"})
        expected = base64.b64encode(hmac.new(secret.encode(), "\n".join(lines).encode(), digest).digest())
        if not hmac.compare_digest(expected.decode(), parts["signature"]):
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


def _throttled(wait: int) -> dict[str, str]:
    unit = "second" if wait == 1 else "seconds"  # rest_framework.exceptions.Throttled
    return {"detail": f"Request was throttled. Expected available in {wait} {unit}.", "code": "throttled"}


def _without_credentials(headers: dict[str, str]) -> dict[str, str]:
    return {name: ("<redacted>" if name == "authorization" else value) for name, value in headers.items()}


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except json.JSONDecodeError:
        return raw.decode("utf-8", "replace")

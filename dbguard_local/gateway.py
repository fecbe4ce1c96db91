"""The API Gateway REST API of template.yaml, served on 127.0.0.1.

Routes, the REQUEST authorizer (with its identity sources and cache TTL), the resource policy's
source-IP conditions and the gateway responses are all read from the template. The resource policy
is combined with each route's authorisation as API Gateway does: an explicit Deny refuses before the
authorizer runs; otherwise a token-authorised route needs the authorizer's Allow, an IAM route a
valid signature (same-account IAM), and a route without authorisation an Allow in the policy. Handlers run in
their function workers. The access log never contains the query string (it carries the ingest token).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dbguard_local.apigateway import (
    API_ID,
    authorizer_event,
    method_arn,
    policy_allows,
    proxy_event,
    resource_policy_verdict,
)
from dbguard_local.cfn import Template
from dbguard_local.errors import GatewayRefusal
from dbguard_local.functions import function_of_arn, function_specs
from dbguard_local.sigv4 import SigV4Verifier
from dbguard_local.worker import FunctionFailed, FunctionTimedOut

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's own limit
IAM = "AWS_IAM"


@dataclass(frozen=True)
class Route:
    method: str
    resource: str  # "/audit/events/{id}"
    pattern: re.Pattern[str]
    function: str  # logical id
    auth: str | None  # an authorizer's name, AWS_IAM, or None


@dataclass(frozen=True)
class Authorizer:
    function: str
    query_strings: tuple[str, ...]
    headers: tuple[str, ...]
    ttl_seconds: int


@dataclass
class GatewayAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


class RestApi:
    """Everything a request goes through between the socket and the function."""

    def __init__(
        self,
        template: Template,
        logical_id: str,
        invoke: Callable[[str, dict], Any],
        iam_credentials: tuple[str, str] = ("testing", "testing"),
    ) -> None:
        properties = template.resolve(template.resources[logical_id]["Properties"])
        self._iam = SigV4Verifier(*iam_credentials, template.region, template.account_id)
        self.stage = properties["StageName"]
        self._region = template.region
        self._invoke = invoke
        self._routes = _routes(template)
        self._authorizers = _authorizers(template, properties.get("Auth", {}))
        self._policy = properties.get("Auth", {}).get("ResourcePolicy", {}).get("CustomStatements", [])
        self._responses = properties.get("GatewayResponses", {})
        self._cache: dict[tuple, tuple[float, dict]] = {}
        self._cache_lock = threading.Lock()

    def handle(
        self, method: str, url: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> GatewayAnswer:
        try:
            route, path, path_parameters = self._route(method, url)
            if len(body) > MAX_PAYLOAD_BYTES:
                raise GatewayRefusal("REQUEST_TOO_LARGE", 413, "Request Too Long")
            query = parse_qs(urlsplit(url).query, keep_blank_values=True)
            event = proxy_event(
                method,
                path,
                resource=route.resource,
                stage=self.stage,
                headers=headers,
                query=query,
                path_parameters=path_parameters,
                body=body or None,
                source_ip=source_ip,
            )
            self._check_resource_policy(route, path, source_ip)
            if route.auth == IAM:
                event["requestContext"]["identity"].update(self._iam.verify(method, url, headers, body))
            event["requestContext"]["authorizer"] = self._authorize(route, event)
            return self._integrate(route, event)
        except GatewayRefusal as refusal:
            return self._refusal(refusal)

    def _route(self, method: str, url: str) -> tuple[Route, str, dict[str, str] | None]:
        full_path = urlsplit(url).path
        prefix = f"/{self.stage}"
        if full_path.startswith(prefix + "/"):
            path = full_path[len(prefix) :]
            for route in self._routes:
                match = route.pattern.fullmatch(path)
                if match and route.method == method:
                    return route, path, match.groupdict() or None
        raise GatewayRefusal("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")

    def _check_resource_policy(self, route: Route, path: str, source_ip: str) -> None:
        """API Gateway's first phase: an explicit Deny refuses before any authorizer or signature check.

        When the policy neither allows nor denies, a Lambda-authorised route goes on to its authorizer
        (whose Allow then suffices) and an IAM route to its signature (a same-account caller's IAM
        policy suffices); only a route without authorisation needs the policy's explicit Allow.
        """
        if not self._policy:
            return
        resource = f"execute-api:/{self.stage}/{route.method}{path}"
        verdict = resource_policy_verdict(self._policy, resource, source_ip)
        if verdict == "Deny" or (verdict is None and route.auth is None):
            raise GatewayRefusal(
                "ACCESS_DENIED", 403, "User: anonymous is not authorized to perform: execute-api:Invoke"
            )

    def _authorize(self, route: Route, event: dict[str, Any]) -> dict[str, Any] | None:
        if route.auth in (None, IAM):
            return None
        authorizer = self._authorizers[route.auth]
        identity = _identity(authorizer, event)
        if identity is None:
            raise GatewayRefusal("UNAUTHORIZED", 401, "Unauthorized")
        answer = self._cached(authorizer, identity) or self._ask(authorizer, identity, event)
        arn = method_arn(self._region, self.stage, event["httpMethod"], event["path"])
        if not policy_allows(answer.get("policyDocument", {}), arn):
            raise GatewayRefusal(
                "ACCESS_DENIED", 403, "User is not authorized to access this resource with an explicit deny"
            )
        return {"principalId": answer.get("principalId"), **(answer.get("context") or {})}

    def _cached(self, authorizer: Authorizer, identity: tuple) -> dict | None:
        with self._cache_lock:
            expires, answer = self._cache.get((authorizer.function, identity), (0.0, {}))
        return answer if expires > time.monotonic() else None

    def _ask(self, authorizer: Authorizer, identity: tuple, event: dict[str, Any]) -> dict:
        try:
            answer = self._invoke(authorizer.function, authorizer_event(event, self._region))
        except FunctionFailed as failure:
            if failure.error_message == "Unauthorized":
                raise GatewayRefusal("UNAUTHORIZED", 401, "Unauthorized") from None
            raise GatewayRefusal("AUTHORIZER_CONFIGURATION_ERROR", 500, None) from None
        except FunctionTimedOut:
            raise GatewayRefusal("AUTHORIZER_FAILURE", 500, None) from None
        if authorizer.ttl_seconds:
            with self._cache_lock:
                self._cache[(authorizer.function, identity)] = (
                    time.monotonic() + authorizer.ttl_seconds,
                    answer,
                )
        return answer

    def _integrate(self, route: Route, event: dict[str, Any]) -> GatewayAnswer:
        try:
            response = self._invoke(route.function, event)
        except FunctionTimedOut:
            raise GatewayRefusal("INTEGRATION_TIMEOUT", 504, "Endpoint request timed out") from None
        except FunctionFailed:
            raise GatewayRefusal("DEFAULT_5XX", 502, "Internal server error") from None
        headers = dict(response.get("headers") or {})
        headers.update(
            {name: ", ".join(values) for name, values in (response.get("multiValueHeaders") or {}).items()}
        )
        body = response.get("body") or ""
        raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
        return GatewayAnswer(int(response["statusCode"]), headers, raw)

    def _refusal(self, refusal: GatewayRefusal) -> GatewayAnswer:
        default = "DEFAULT_5XX" if refusal.status >= 500 else "DEFAULT_4XX"
        configured = self._responses.get(refusal.kind) or self._responses.get(default, {})
        status = int(configured.get("StatusCode", refusal.status))
        template = configured.get("ResponseTemplates", {}).get(
            "application/json", '{"message": $context.error.messageString}'
        )
        body = template.replace("$context.error.messageString", json.dumps(refusal.message))
        return GatewayAnswer(status, {"Content-Type": "application/json"}, body.encode("utf-8"))


def _routes(template: Template) -> list[Route]:
    routes = []
    for logical_id, spec in function_specs(template).items():
        for event in spec.events.values():
            properties = event.get("Properties", {})
            if event.get("Type") != "Api" or properties.get("RestApiId") != API_ID:
                continue
            resource = properties["Path"]
            pattern = re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(resource)))
            auth = properties.get("Auth", {}).get("Authorizer")
            routes.append(Route(properties["Method"].upper(), resource, pattern, logical_id, auth))
    return routes


def _authorizers(template: Template, auth: dict[str, Any]) -> dict[str, Authorizer]:
    authorizers = {}
    for name, spec in auth.get("Authorizers", {}).items():
        identity = spec.get("Identity", {})
        authorizers[name] = Authorizer(
            function=function_of_arn(template, spec["FunctionArn"]),
            query_strings=tuple(identity.get("QueryStrings", [])),
            headers=tuple(identity.get("Headers", [])),
            ttl_seconds=int(identity.get("ReauthorizeEvery", 300)),
        )
    return authorizers


def _identity(authorizer: Authorizer, event: dict[str, Any]) -> tuple | None:
    """The identity-source values; None when one is missing (API Gateway then answers 401 itself)."""
    query = event.get("queryStringParameters") or {}
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    values = [query.get(name) for name in authorizer.query_strings]
    values += [headers.get(name.lower()) for name in authorizer.headers]
    return tuple(values) if all(values) else None


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: RestApi, access_log: Callable[[dict], None]) -> None:
        super().__init__(address, _RequestHandler)
        self.api = api
        self.access_log = access_log


class _RequestHandler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        answer = self.server.api.handle(self.command, self.path, headers, body, self.client_address[0])
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)
        self.server.access_log(
            {
                "ip": self.client_address[0],
                "method": self.command,
                "path": urlsplit(self.path).path,  # never the query string: it may hold the ingest token
                "status": answer.status,
                "latencyMs": round((time.monotonic() - started) * 1000),
            }
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the default line includes the full request line, query string and all."""

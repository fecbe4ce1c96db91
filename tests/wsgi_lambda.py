"""The API's Lambda functions behind a WSGI callable, so schema-driven tools (schemathesis) can
drive them in-process: each request becomes the API Gateway event the route would produce."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from dbguard_local.apigateway import proxy_event

Route = tuple[str, re.Pattern[str], str, Any]  # method, path pattern, resource, function


class LambdaWsgi:
    def __init__(self, routes: list[tuple[str, str, Any]], stage: str = "v1") -> None:
        """`routes`: (method, resource such as "/audit/events/{id}", loaded function); requests come
        under `/{stage}`, as to API Gateway, and the event's path is without it, as API Gateway's."""
        self._stage = stage
        self._routes: list[Route] = [
            (
                method,
                re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(resource)) + "$"),
                resource,
                fn,
            )
            for method, resource, fn in routes
        ]

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        path = path.removeprefix(f"/{self._stage}")  # the document's servers end in the stage
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        for route_method, pattern, resource, function in self._routes:
            match = pattern.match(path)
            if match and route_method == method:
                query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
                parameters = match.groupdict() or None
                event = proxy_event(
                    method, path, resource=resource, body=body, headers=headers, query=query or None,
                    path_parameters=parameters,
                )  # fmt: skip
                return self._answer(function.invoke(event), start_response)
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"msg": "no such route", "errors": []}']

    @staticmethod
    def _answer(response: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        headers = dict(response.get("headers") or {})
        headers.update({k: ", ".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()})
        body = response.get("body") or ""
        raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
        start_response(f"{int(response['statusCode'])} -", list(headers.items()))
        return [raw]

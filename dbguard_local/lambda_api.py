"""Lambda's Invoke API on 127.0.0.1, so `aws lambda invoke --endpoint-url ...` reaches the local
functions (on-demand rotation, replaying a sample event) as it would in the cloud."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dbguard_local.worker import FunctionFailed, FunctionTimedOut

_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


class LambdaApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], functions: dict[str, str], invoke: Callable[[str, Any], Any]
    ) -> None:
        """`functions`: function name (and ARN) -> logical id."""
        self.functions = functions
        self.invoke = invoke
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: LambdaApiServer

    def do_POST(self) -> None:
        match = _INVOKE.match(self.path.split("?")[0])
        name = match.group("name") if match else ""
        logical_id = self.server.functions.get(name) or self.server.functions.get(name.rsplit(":", 1)[-1])
        if logical_id is None:
            self._reply(404, {"Type": "User", "message": f"Function not found: {name}"}, error=None)
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            result = self.server.invoke(logical_id, json.loads(raw or b"{}"))
        except FunctionFailed as failure:
            self._reply(
                200, {"errorType": failure.error_type, "errorMessage": failure.error_message}, "Unhandled"
            )
        except FunctionTimedOut as timeout:
            self._reply(200, {"errorType": "Sandbox.Timedout", "errorMessage": str(timeout)}, "Unhandled")
        except json.JSONDecodeError:
            self._reply(400, {"Type": "User", "message": "Could not parse request body into json"}, None)
        else:
            self._reply(200, result, None)

    def _reply(self, status: int, body: Any, error: str | None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if error:
            self.send_header("X-Amz-Function-Error", error)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass

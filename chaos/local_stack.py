"""The local stack (`make run`) as a subprocess on free loopback ports, for the load test."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
from collections import deque
from typing import Any

import boto3

from dbguard_local.process import spawn_local_stack

START_TIMEOUT_SECONDS = 120
_INGEST_URL = re.compile(r"^\s+(http://127\.0\.0\.1:\d+/\w+/audit/events\?token=\S+)$")
_AWS_ENDPOINT = re.compile(r"AWS_ENDPOINT_URL=(http://127\.0\.0\.1:\d+)")


class LocalStackProcess:
    """`python -m dbguard_local` in a session of its own; its output is read as it comes (the last
    lines are kept for a failure report) and never printed: the banner holds the ingest token."""

    def __init__(self, **environment: str) -> None:
        self.process = spawn_local_stack(**environment)
        self.banner: list[str] = []
        self.tail: deque[str] = deque(maxlen=200)
        self.records: list[dict[str, Any]] = []  # the stack's own JSON lines (restarts, fault counts)
        self.lines = 0
        self._secrets: list[str] = []
        self.secret_seen = False
        self._ready = threading.Event()
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError("local stack did not start:\n" + "\n".join(self.tail))
        self._secrets = [self.ingest_url.split("token=", 1)[1]]

    def _read(self) -> None:
        for raw in self.process.stdout:
            line = raw.rstrip("\n")
            self.lines += 1
            if not self._ready.is_set():
                if line.strip() == "READY":
                    self._ready.set()
                else:
                    self.banner.append(line)
                continue
            if any(secret in line for secret in self._secrets):
                self.secret_seen = True
                line = "<a line holding the ingest token, withheld>"
            self.tail.append(line)
            if line.startswith(('{"type": "lambda-restart"', '{"type": "storage-faults"')):
                self.records.append(json.loads(line))

    def _banner_value(self, pattern: re.Pattern[str]) -> str:
        for line in self.banner:
            match = pattern.search(line)
            if match:
                return match.group(1)
        raise RuntimeError(f"the banner has no line matching {pattern.pattern}")

    @property
    def ingest_url(self) -> str:
        return self._banner_value(_INGEST_URL)

    @property
    def aws_endpoint(self) -> str:
        return self._banner_value(_AWS_ENDPOINT)

    def aws_client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name="eu-central-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the embedded AWS's fixed local credentials
        )

    def restart_functions(self) -> None:
        """Every function's environment dies now (SIGUSR1, dbguard_local/__main__.py)."""
        self.process.send_signal(signal.SIGUSR1)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=10)
        self._pump.join(10)
        return code

    def record(self, kind: str) -> list[dict[str, Any]]:
        return [record for record in self.records if record.get("type") == kind]

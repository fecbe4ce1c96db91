"""The local stack (`make run`) started as a subprocess, as a newcomer would start it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

from dbguard_local.process import spawn_local_stack

START_TIMEOUT_SECONDS = 90


REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningStack:
    process: subprocess.Popen
    state_dir: str  # DBGUARD_LOCAL_DIR: where it writes endpoints.json for the helpers
    output: list[str] = field(default_factory=list)
    ready_at: int = 0  # index of the READY line in output
    drained: threading.Event = field(default_factory=threading.Event)  # its output read to the end

    def helper(self, *command: str, timeout: float = 60, **environment: str) -> subprocess.CompletedProcess:
        """A helper (`make rotate ...` or `python scripts/...`) as a user runs it beside this stack:
        no AWS or DBGUARD variables but the one naming this stack's endpoints file."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DBGUARD_", "MAKE"))}
        env.update({"DBGUARD_LOCAL_DIR": self.state_dir, **environment})
        if command[0] == "python":
            command = (sys.executable, *command[1:])
        return subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def banner_value(self, pattern: str) -> str:
        for line in self.output[: self.ready_at]:
            match = re.search(pattern, line)
            if match:
                return match.group(1)
        raise AssertionError(f"banner has no line matching {pattern!r}:\n" + "\n".join(self.output))

    @property
    def ingest_url(self) -> str:
        return self.banner_value(r"^\s+(http://127\.0\.0\.1:\d+/\w+/audit/events\?token=\S+)$")

    @property
    def aws_endpoint(self) -> str:
        return self.banner_value(r"AWS_ENDPOINT_URL=(http://127\.0\.0\.1:\d+)")

    @property
    def lambda_endpoint(self) -> str:
        return self.banner_value(r"any Lambda client, endpoint (http://127\.0\.0\.1:\d+)")

    @property
    def jumpserver_url(self) -> str:
        return self.banner_value(r"JumpServer: simulator \(v\d\) at (http://127\.0\.0\.1:\d+)")

    def aws_client(self, service: str, endpoint_url: str | None = None):
        return boto3.client(
            service,
            endpoint_url=endpoint_url or self.aws_endpoint,
            region_name="eu-central-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def output_after_banner(self) -> str:
        return "\n".join(self.output[self.ready_at + 1 :])

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


def processes_in_session(session_id: int, settle_seconds: float = 0.0) -> list[int]:
    """Live processes whose session is `session_id` (the stack runs in a session of its own).

    With `settle_seconds`, wait that long for the session to empty: multiprocessing's resource
    tracker exits only once it reads EOF from its parent, a moment after the parent is gone.
    """
    deadline = time.monotonic() + settle_seconds
    while (found := _live_in_session(session_id)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def _live_in_session(session_id: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def start_stack(**environment: str) -> RunningStack:
    environment.setdefault("DBGUARD_LOCAL_DIR", tempfile.mkdtemp(prefix="dbguard-local-"))
    process = spawn_local_stack(**environment)
    stack = RunningStack(process, environment["DBGUARD_LOCAL_DIR"])
    ready = threading.Event()

    def pump() -> None:
        for line in process.stdout:
            stack.output.append(line.rstrip("\n"))
            if line.strip() == "READY":
                stack.ready_at = len(stack.output) - 1
                ready.set()
        stack.drained.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready.wait(0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("local stack did not start:\n" + "\n".join(stack.output))
    return stack


@pytest.fixture(scope="module")
def running_stack() -> Iterator[RunningStack]:
    stack = start_stack()
    yield stack
    stack.stop()

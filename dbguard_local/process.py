"""`python -m dbguard_local` as a subprocess on free loopback ports (integration tests, load test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def spawn_local_stack(**environment: str) -> subprocess.Popen[str]:
    """In a session of its own (stopped as a group), with none of the caller's AWS, DBGUARD or
    JUMPSERVER variables; output on one pipe, which the caller reads (the banner holds a token)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DBGUARD_", "JUMPSERVER_"))}
    env.update(
        {"DBGUARD_GATEWAY_PORT": "0", "DBGUARD_AWS_PORT": "0", "DBGUARD_LAMBDA_PORT": "0", **environment}
    )
    return subprocess.Popen(
        [sys.executable, "-m", "dbguard_local"],
        cwd=REPO_ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

"""`python -m dbguard_local` as a subprocess on free loopback ports (integration tests, load test)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def spawn_local_stack(**environment: str) -> subprocess.Popen[str]:
    """In a session of its own (stopped as a group), with none of the caller's AWS, DBGUARD or
    JUMPSERVER variables; output on one pipe, which the caller reads (the banner holds a token).
    Its endpoints file goes to a folder of its own (DBGUARD_LOCAL_DIR), never a developer's
    .dbguard-local/: the helpers there keep finding the developer's own `make run`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DBGUARD_", "JUMPSERVER_"))}
    env.update(
        {
            "DBGUARD_GATEWAY_PORT": "0",
            "DBGUARD_AWS_PORT": "0",
            "DBGUARD_LAMBDA_PORT": "0",
            "DBGUARD_LOCAL_DIR": tempfile.mkdtemp(prefix="dbguard-local-"),
            **environment,
        }
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

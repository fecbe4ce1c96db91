"""Where a running `make run` listens, written to a file for the helper scripts (`make audit-query`,
`make rotate`, `make cmdb-event`, `make status`, ...).

The ports are the stack's to choose (DBGUARD_*_PORT, `0` for any free one), so a helper that guessed
3000/3001/4566 could reach nothing, or another stack's data. `make run` writes
`.dbguard-local/endpoints.json` (gitignored) once it is ready and removes it when it stops; a helper
reads it and, without it, says no stack is running. DBGUARD_LOCAL_DIR moves the folder (the tests run
several stacks at once).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
STATE_DIR_VARIABLE = "DBGUARD_LOCAL_DIR"
FILE_NAME = "endpoints.json"


class NoLocalStack(Exception):
    """No `make run` is running (or the one that wrote the file has gone)."""


@dataclass(frozen=True)
class Endpoints:
    api_url: str  # the gateway's stage URL, http://127.0.0.1:3000/v1
    aws: str  # the embedded AWS (moto)
    lambda_api: str  # Lambda's Invoke API for the local functions
    region: str
    announcements_queue_url: str  # where the local rule sends direct-connection announcements
    ingest_token_secret: str  # the Secrets Manager secret holding the ingest token(s)
    pid: int  # of the `make run` that wrote this


def state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_VARIABLE) or REPO_ROOT / ".dbguard-local")


def endpoints_file() -> Path:
    return state_dir() / FILE_NAME


def write(endpoints: Endpoints) -> Path:
    """Atomically (a helper never reads half a file)."""
    path = endpoints_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{endpoints.pid}.tmp")
    partial.write_text(json.dumps(asdict(endpoints), indent=2) + "\n")
    partial.replace(path)
    return path


def remove(pid: int) -> None:
    """Only this stack's file: a second `make run` (on other ports) may have written its own since."""
    path = endpoints_file()
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def read() -> Endpoints:
    """The running stack's endpoints; NoLocalStack (saying what to do) when none is running."""
    path = endpoints_file()
    try:
        endpoints = Endpoints(**json.loads(path.read_text()))
    except FileNotFoundError:
        raise NoLocalStack(
            f"no local stack is running ({path} is missing): start one with `make run` in another terminal"
        ) from None
    except (OSError, ValueError, TypeError) as error:
        raise NoLocalStack(f"{path} is unreadable ({error}): restart `make run`") from None
    if not _alive(endpoints.pid):
        raise NoLocalStack(
            f"the local stack that wrote {path} (pid {endpoints.pid}) has gone: start one with `make run`"
        )
    return endpoints


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
